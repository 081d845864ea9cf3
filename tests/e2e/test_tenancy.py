"""Keys and tenants over real HTTP on a real PostgreSQL: who may call, what each tenant sees, and the limits."""

import dataclasses
import json
import os
import subprocess
import sys
import uuid

import httpx
import pytest
from sqlalchemy import text

from imgopt.domain.image_jobs import ImageFailure, RetryPolicy
from imgopt.domain.options import Quality
from imgopt.domain.tenancy import hash_key
from tests.support import csv_bytes, wait_for

TABLES = ("tenants", "apikeys", "requests", "productimages", "optimizerjobs", "webhookurls", "webhookdeliveries",
          "webhookattempts")  # fmt: skip


@dataclasses.dataclass
class Tenant:
    name: str
    key: str
    key_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclasses.dataclass
class KeyedApi:
    url: str
    container: object
    a: Tenant
    b: Tenant

    def call(self, tenant: Tenant | None, method: str, path: str, **kwargs) -> httpx.Response:
        headers = tenant.headers if tenant else {}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def upload(self, tenant: Tenant, *rows: str, **fields: str) -> dict:
        files = {"file": ("p.csv", csv_bytes(*rows), "text/csv")}
        response = self.call(tenant, "POST", "/upload", files=files, data=fields)
        assert response.status_code == 202, response.text
        return response.json()

    def fail_every_image(self) -> None:
        """What a worker would do with images that cannot be fetched, without fetching them."""
        use_cases = self.container.use_cases
        clock, policy = self.container.core.clock(), RetryPolicy(max_attempts=1)
        while jobs := use_cases.claim_images()(100):
            use_cases.record_outcomes()([job.failed(ImageFailure("HTTP 404"), policy, clock.now()) for job in jobs])


@pytest.fixture
def keyed_api(api_settings, clean_database):
    yield from serve_keyed(api_settings, clean_database)


@pytest.fixture
def limited_api(api_settings, clean_database):
    yield from serve_keyed(api_settings, clean_database, rate_limit_per_minute=5, max_waiting_images=3)


@pytest.fixture
def guarded_api(api_settings, clean_database):
    yield from serve_keyed(api_settings, clean_database, auth_failures_per_minute=3)


@pytest.fixture
def auto_quality_api(api_settings, clean_database):
    """Tenants A and B created while IMGOPT_NEW_TENANT_QUALITY=auto."""
    yield from serve_keyed(api_settings, clean_database, new_tenant_quality="auto")


def serve_keyed(api_settings, engine, **limits):
    from imgopt.bootstrap.containers import create_container
    from imgopt.entrypoints.http.app import create_app
    from imgopt.entrypoints.http.server import BackgroundServer, free_port

    port = free_port()
    settings = dataclasses.replace(
        api_settings, auth="required", public_base_url=f"http://127.0.0.1:{port}", **limits
    )  # fmt: skip
    container = create_container(settings)
    container.persistence.engine.override(engine)
    create = container.use_cases.create_api_key()
    a, b = create("team-a", "tests"), create("team-b", "tests")
    with BackgroundServer(create_app(container, settings), port=port) as server:
        yield KeyedApi(
            server.url,
            container,
            Tenant("team-a", a.plaintext, a.key.id),
            Tenant("team-b", b.plaintext, b.key.id),
        )
    container.shutdown_resources()
    container.persistence.engine.reset_override()


def fingerprint(engine) -> dict[str, str]:
    """Every row of every table, hashed: any change anywhere changes it (but a key's time of last use)."""
    rows = {table: f"(SELECT * FROM images.{table})" for table in TABLES}
    rows["apikeys"] = "(SELECT id, tenant_id, name, prefix, key_hash, created_at, revoked_at FROM images.apikeys)"
    with engine.connect() as connection:
        return {
            table: connection.execute(
                text(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {source} t")
            ).scalar()
            for table, source in rows.items()
        }


def a_world(api: KeyedApi) -> dict[str, str]:
    """Tenant A with a finished request, its own webhook and a global one, and their deliveries."""
    upload = api.upload(api.a, "1,Hat,https://a.example/1.jpg", webhookUrl="http://127.0.0.1:9/a-hook")
    everything = api.call(api.a, "POST", "/webhook/register", json={"webhookUrl": "http://127.0.0.1:9/a-all"})
    api.fail_every_image()
    deliveries = api.call(api.a, "GET", f"/webhooks/{upload['webhook']['id']}/deliveries").json()["deliveries"]
    return {
        "request": upload["requestId"],
        "webhook": upload["webhook"]["id"],
        "global": everything.json()["id"],
        "delivery": deliveries[0]["id"],
    }


ENDPOINTS = [
    ("GET", "/status/{request}", {}),
    ("GET", "/status/{request}?details=true", {}),
    ("GET", "/status/{request}/output.csv", {}),
    ("POST", "/webhook/register", {"json": {"webhookUrl": "http://127.0.0.1:9/b", "requestId": "{request}"}}),
    ("POST", "/requests/{request}/cancel", {}),
    ("POST", "/requests/{request}/retry", {}),
    ("DELETE", "/requests/{request}", {}),
    ("DELETE", "/webhooks/{webhook}", {}),
    ("DELETE", "/webhooks/{global}", {}),
    ("POST", "/webhooks/{webhook}/rotate-secret", {}),
    ("GET", "/webhooks/{global}/deliveries", {}),
    ("POST", "/deliveries/{delivery}/redeliver", {}),
]


def fill(template, ids: dict[str, str]):
    if isinstance(template, str):
        return template.format(**ids)
    return {key: fill(value, ids) for key, value in template.items()}


def test_tenant_b_with_tenant_a_ids_gets_the_404_of_an_unknown_id_from_every_endpoint_and_changes_nothing(
    keyed_api, clean_database
):
    api = keyed_api
    ids = a_world(api)
    unknown = {"request": str(uuid.uuid4()), "webhook": str(uuid.uuid4()), "global": str(uuid.uuid4())}
    unknown["delivery"] = f"msg_{uuid.uuid4().hex}"
    before = fingerprint(clean_database)

    answers = []
    for method, path, options in ENDPOINTS:
        theirs = api.call(api.b, method, fill(path, ids), **fill(options, ids))
        nobodys = api.call(api.b, method, fill(path, unknown), **fill(options, unknown))
        answers.append(
            (method, path, theirs.status_code, nobodys.status_code, theirs.json()["code"], nobodys.json()["code"])
        )
    listed = [api.call(api.b, "GET", path).json() for path in ("/requests", "/webhooks")]

    assert [a for a in answers if a[2:4] != (404, 404) or a[4] != a[5]] == []
    assert fingerprint(clean_database) == before
    assert listed == [{"requests": [], "nextCursor": None}, {"webhooks": [], "nextCursor": None}]
    assert api.call(api.a, "GET", f"/status/{ids['request']}").status_code == 200


@pytest.mark.parametrize(("method", "path", "options"), ENDPOINTS + [("POST", "/upload", {}), ("GET", "/requests", {})])
def test_every_api_endpoint_refuses_a_call_without_a_key_in_the_problem_shape(keyed_api, method, path, options):
    ids = {"request": str(uuid.uuid4()), "webhook": str(uuid.uuid4()), "global": str(uuid.uuid4()), "delivery": "m"}

    response = keyed_api.call(None, method, fill(path, ids), **fill(options, ids))

    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Authorization": "Bearer imgopt_short"}, "malformed"),
        ({"X-API-Key": "imgopt_" + "Z" * 43}, "unknown or has been revoked"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "needs an API key"),
    ],
)
def test_a_malformed_unknown_or_other_kind_of_credential_is_refused_saying_which(keyed_api, headers, reason):
    response = httpx.get(f"{keyed_api.url}/requests", headers=headers)

    assert response.status_code == 401 and reason in response.json()["detail"]


def test_the_key_works_in_either_header_and_the_open_routes_need_none(keyed_api):
    api = keyed_api

    bearer = api.call(api.a, "GET", "/requests")
    header = httpx.get(f"{api.url}/requests", headers={"X-API-Key": api.a.key})
    open_routes = [httpx.get(f"{api.url}{path}") for path in ("/health", "/ready", "/schema/openapi.json", "/")]
    config = httpx.get(f"{api.url}/console/config.json").json()
    schema = open_routes[2].json()

    assert (bearer.status_code, header.status_code) == (200, 200)
    assert [r.status_code for r in open_routes] == [200, 200, 200, 200] and config == {
        "auth": "required",
        "apiReference": "/schema/openapi.json",
    }
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "An imgopt API key (`imgopt keys create`)",
    }  # fmt: skip
    assert {"bearer": []} in schema["security"]


def test_a_key_revoked_from_another_process_is_refused_on_the_next_call(keyed_api, database_url):
    api = keyed_api
    reader = api.container.persistence.key_reader()
    wait_for(
        lambda: api.call(api.a, "GET", "/requests").status_code == 200 and reader.remembered(hash_key(api.a.key)),
        timeout=30,
        interval=0.05,
        message="the key to be remembered by the API process",
    )
    environment = {**os.environ, "IMGOPT_DATABASE_URL": database_url, "IMGOPT_DATA_DIR": "/tmp/tenancy-revoke"}

    revoked = subprocess.run(
        [sys.executable, "-m", "imgopt.entrypoints.cli", "keys", "revoke", str(api.a.key_id)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    refused = api.call(api.a, "GET", "/requests")

    assert revoked.returncode == 0, revoked.stderr
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert api.call(api.b, "GET", "/requests").status_code == 200


def test_beyond_its_rate_a_key_gets_429_with_retry_after_and_other_keys_are_untouched(limited_api):
    api = limited_api

    answers = [api.call(api.a, "GET", "/requests").status_code for _ in range(5)]
    refused = api.call(api.a, "GET", "/requests")
    other = api.call(api.b, "GET", "/requests")

    assert answers == [200] * 5
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 12
    assert other.status_code == 200


def test_an_address_that_keeps_sending_wrong_keys_gets_429_before_any_lookup_and_others_are_untouched(guarded_api):
    api = guarded_api
    wrong = {"Authorization": "Bearer imgopt_" + "x" * 43}

    guesses = [httpx.get(f"{api.url}/requests", headers=wrong).status_code for _ in range(3)]
    refused = httpx.get(f"{api.url}/requests", headers=wrong)
    keyless = httpx.get(f"{api.url}/requests")
    # Another client address (loopback has all of 127/8) keeps its own budget.
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as elsewhere:
        other_guess = elsewhere.get(f"{api.url}/requests", headers=wrong)
        other_key = elsewhere.get(f"{api.url}/requests", headers=api.b.headers)

    assert guesses == [401] * 3
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited", refused.text
    assert "IMGOPT_AUTH_FAILURES_PER_MINUTE" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert keyless.status_code == 401, "a call without any key is not counted as a guess"
    assert other_guess.status_code == 401 and other_key.status_code == 200


def test_an_upload_beyond_the_tenants_waiting_images_is_refused_with_the_limit_and_the_count(limited_api):
    api = limited_api
    api.upload(api.a, '1,Hat,"https://a.example/1.jpg,https://a.example/2.jpg"')

    refused = api.call(
        api.a,
        "POST",
        "/upload",
        files={"file": ("p.csv", csv_bytes('1,Cap,"https://a.example/3.jpg,https://a.example/4.jpg"'), "text/csv")},
    )
    theirs = api.call(
        api.b, "POST", "/upload", files={"file": ("p.csv", csv_bytes("1,Cap,https://a.example/3.jpg"), "text/csv")}
    )

    assert refused.status_code == 429 and refused.json()["code"] == "too_many_waiting_images"
    assert "2 of yours are still waiting; at most 3" in refused.json()["detail"]
    assert theirs.status_code == 202
    assert len(api.call(api.a, "GET", "/requests").json()["requests"]) == 1


def test_a_webhook_whose_host_does_not_resolve_is_registered_with_a_warning_and_a_non_public_one_is_refused(
    keyed_api, api_settings
):
    api = keyed_api

    unresolved = api.call(api.a, "POST", "/webhook/register", json={"webhookUrl": "https://hooks.nowhere.invalid/in"})
    ftp = api.call(api.a, "POST", "/webhook/register", json={"webhookUrl": "ftp://hooks.example/in"})

    assert unresolved.status_code == 201 and "does not resolve" in unresolved.json()["warning"]
    assert [w["id"] for w in api.call(api.a, "GET", "/webhooks").json()["webhooks"]] == [unresolved.json()["id"]]
    assert ftp.status_code == 422


def test_an_upload_without_quality_gets_its_tenants_default_and_a_quality_it_names_wins(auto_quality_api):
    api = auto_quality_api
    api.container.use_cases.set_default_quality()("team-b", Quality(50))

    left_out = api.upload(api.a, "1,Hat,https://a.example/1.jpg")["requestId"]
    named = api.upload(api.a, "1,Hat,https://a.example/1.jpg", quality="70")["requestId"]
    other_tenant = api.upload(api.b, "1,Hat,https://a.example/1.jpg")["requestId"]

    shown = {
        request_id: api.call(tenant, "GET", f"/status/{request_id}").json()["options"]["quality"]
        for tenant, request_id in ((api.a, left_out), (api.a, named), (api.b, other_tenant))
    }
    # What the worker is given to optimize each image with.
    jobs = {str(job.request_id): job.options for job in api.container.use_cases.claim_images()(10)}
    assert shown == {left_out: "auto", named: 70, other_tenant: 50}
    assert jobs[left_out].auto_quality is True
    assert (jobs[named].quality, jobs[named].auto_quality) == (70, False)
    assert (jobs[other_tenant].quality, jobs[other_tenant].auto_quality) == (50, False)


def test_an_operator_sets_a_tenants_default_quality_with_the_cli_and_its_next_upload_gets_it(keyed_api, database_url):
    api = keyed_api
    environment = {**os.environ, "IMGOPT_DATABASE_URL": database_url, "IMGOPT_DATA_DIR": "/tmp/tenancy-quality"}

    def tenants(*argv: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "imgopt.entrypoints.cli", "tenants", "quality", *argv]
        return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)

    before = tenants("team-a")
    changed = tenants("team-a", "auto")
    shown = tenants("team-a", "--json")
    wrong, nobody = tenants("team-a", "0"), tenants("nobody", "80")
    upload = api.upload(api.a, "1,Hat,https://a.example/1.jpg")

    assert (before.returncode, before.stdout) == (0, "50\n"), before.stderr
    assert changed.returncode == 0 and "now get auto" in changed.stderr, changed.stderr
    assert json.loads(shown.stdout) | {"id": None} == {"id": None, "name": "team-a", "defaultQuality": "auto"}
    assert wrong.returncode == 1 and "quality must be between 1 and 100" in wrong.stderr
    assert nobody.returncode == 1 and "no tenant named 'nobody'" in nobody.stderr
    assert api.call(api.a, "GET", f"/status/{upload['requestId']}").json()["options"]["quality"] == "auto"
    assert tenants("team-b").stdout == "50\n"
