"""deploy/prometheus/alerts.yaml: its shape always; accepted and evaluated by promtool where it is installed."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ALERTS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yaml"
SEVERITIES = {"critical", "warning", "info"}
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="no promtool: apt-get install prometheus")

# promtool's unit-test format: series given as start+stepxcount, alerts expected at an evaluation time.
RULE_TESTS = """
rule_files: [{alerts}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'imgopt_queue_oldest_pending_age_seconds{{instance="worker-1"}}'
        values: '700+60x10'
      - series: 'imgopt_queue_oldest_pending_age_seconds{{instance="worker-2"}}'
        values: '0x10'
      - series: 'imgopt_queue_images{{status="pending"}}'
        values: '5x10'
      - series: 'imgopt_worker_database_up{{instance="worker-1"}}'
        values: '1 1 1 0 0 0 0 0 0 0 0'
    alert_rule_test:
      - eval_time: 4m
        alertname: ImgoptQueueStalled
        exp_alerts: []
      - eval_time: 6m
        alertname: ImgoptQueueStalled
        exp_alerts:
          - exp_labels: {{severity: critical}}
            exp_annotations:
              summary: imgopt images have waited more than 10 minutes
              description: >-
                The oldest due image has waited 17m 40s and nothing takes it:
                no worker runs, or the workers are stuck or too few for the queue.
      - eval_time: 4m
        alertname: ImgoptDatabaseUnreachable
        exp_alerts: []
      - eval_time: 6m
        alertname: ImgoptDatabaseUnreachable
        exp_alerts:
          - exp_labels: {{severity: critical}}
            exp_annotations:
              summary: imgopt cannot reach its database
              description: >-
                A worker backs off from PostgreSQL, or no process reports the queue (the gauges are left
                out while the database is away, and absent when nothing is scraped).
"""


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def test_every_rule_is_an_alert_with_a_severity_a_summary_a_description_and_a_duration():
    found = rules()

    assert len(found) >= 5
    assert len({rule["alert"] for rule in found}) == len(found)
    for rule in found:
        assert rule["alert"].startswith("Imgopt") and rule["expr"].strip(), rule
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        assert rule["for"][-1] in "smh" and rule["for"][:-1].isdigit(), rule["alert"]


@needs_promtool
def test_promtool_accepts_the_rules():
    done = subprocess.run([PROMTOOL, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout


@needs_promtool
def test_the_queue_and_database_alerts_fire_after_their_durations_and_not_before(tmp_path):
    tests = tmp_path / "alerts_test.yaml"
    tests.write_text(RULE_TESTS.format(alerts=ALERTS))

    done = subprocess.run([PROMTOOL, "test", "rules", str(tests)], capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stdout + done.stderr
