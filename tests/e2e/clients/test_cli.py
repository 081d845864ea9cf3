"""`imgopt upload` and `imgopt status`, run as a user runs them, against a running `imgopt serve`."""

import json
import os
import subprocess
import sys
import uuid

from tests.support import LocalServer, Reply, free_port


def imgopt(*args: str, cwd, **environment: str) -> subprocess.CompletedProcess:
    """The command in a fresh process; IMGOPT_API_* only as the test gives them."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("IMGOPT_API_")}
    return subprocess.run(
        [sys.executable, "-m", "imgopt.entrypoints.cli", *args],
        cwd=cwd,
        env={**inherited, "COLUMNS": "200", **environment},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_upload_and_wait_shows_progress_saves_the_output_csv_and_fails_on_failed_images(live, tmp_path):
    (tmp_path / "products.csv").write_bytes(
        live.csv(
            f'1,Shirt,"{live.photo("photo.webp")},{live.missing("shirt-back.jpg")}"', f"2,Hat,{live.photo('cmyk.jpg')}"
        )
    )

    run = imgopt(
        "upload",
        "products.csv",
        "--api",
        live.url,
        "--wait",
        "--output",
        "out.csv",
        "--format",
        "webp",
        "--max-width",
        "320",
        "--quality",
        "70",
        cwd=tmp_path,
    )

    request_id = run.stdout.strip()
    status = live.api(f"/status/{request_id}").json()
    assert run.returncode == 1, run.stderr
    assert uuid.UUID(request_id) and status["status"] == "completed_with_errors"
    assert (tmp_path / "out.csv").read_bytes() == live.api(f"/status/{request_id}/output.csv").content
    assert status["options"] == {"quality": 70, "maxWidth": 320, "maxHeight": None, "format": "webp"}
    assert "Optimizing" in run.stderr and "1 of 3 images failed" in run.stderr
    assert f"line 2 (Shirt), {live.missing('shirt-back.jpg')}: HTTP 404" in run.stderr
    assert f"{status['bytesIn']:,} → {status['bytesOut']:,}" in run.stderr


def test_upload_and_wait_of_good_images_exits_zero_with_the_output_next_to_it(live, tmp_path):
    (tmp_path / "products.csv").write_bytes(live.csv(f"1,Shirt,{live.photo('small-320x240.jpg')}"))

    run = imgopt("upload", "products.csv", "--wait", cwd=tmp_path, IMGOPT_API_URL=live.url)

    request_id = run.stdout.strip()
    assert run.returncode == 0, run.stderr
    assert (tmp_path / f"imgopt-{request_id}.csv").read_bytes() == live.api(f"/status/{request_id}/output.csv").content
    assert "completed" in run.stderr and "failed" not in run.stderr.replace("0 failed", "")


def test_upload_without_wait_prints_the_request_id_and_returns_at_once(live, tmp_path):
    (tmp_path / "products.csv").write_bytes(live.csv(f"1,Shirt,{live.photo('photo.webp')}"))

    run = imgopt("upload", "products.csv", "--api", live.url, "--webhook-url", live.receiver.url("/hook"), cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    assert live.api(f"/status/{run.stdout.strip()}").status_code == 200
    assert "Webhook secret (shown once, keep it): whsec_" in run.stderr
    assert not list(tmp_path.glob("imgopt-*.csv"))


def test_a_refused_upload_exits_non_zero_and_lists_each_problem_by_line(live, tmp_path):
    (tmp_path / "bad.csv").write_bytes(live.csv("1,Shirt,ftp://a.example/1.jpg", "1,Hat,https://a.example/2.jpg"))

    run = imgopt("upload", "bad.csv", "--api", live.url, "--wait", cwd=tmp_path)

    assert run.returncode == 3
    assert run.stdout == ""
    assert "Refused (422 invalid_csv)" in run.stderr
    assert "only http and https URLs are allowed" in run.stderr and "already used on line 2" in run.stderr


def test_status_prints_the_document_as_json_or_as_a_table(live, tmp_path):
    (tmp_path / "products.csv").write_bytes(live.csv(f"1,Shirt,{live.photo('small-320x240.jpg')}"))
    request_id = imgopt("upload", "products.csv", "--api", live.url, "--wait", cwd=tmp_path).stdout.strip()

    as_json = imgopt("status", request_id, "--json", "--api", live.url, cwd=tmp_path)
    with_details = imgopt("status", request_id, "--json", "--details", "--api", live.url, cwd=tmp_path)
    as_table = imgopt("status", request_id, "--api", live.url, cwd=tmp_path)
    unknown = imgopt("status", str(uuid.uuid4()), "--api", live.url, cwd=tmp_path)

    assert json.loads(as_json.stdout) == live.api(f"/status/{request_id}").json()
    assert (
        json.loads(with_details.stdout)["details"]["products"]
        == (live.api(f"/status/{request_id}", details="true").json()["details"]["products"])
    )
    assert f"Request {request_id}: completed" in as_table.stdout and "1 optimized" in as_table.stdout
    assert unknown.returncode == 3 and "404 request_not_found" in unknown.stderr


def test_an_api_that_cannot_be_reached_or_a_missing_file_is_said_plainly(tmp_path):
    (tmp_path / "products.csv").write_text("S. No.,Product Name,Input Image Urls\n1,Shirt,https://a.example/1.jpg\n")
    nowhere = f"http://127.0.0.1:{free_port()}"

    unreachable = imgopt("upload", "products.csv", "--api", nowhere, cwd=tmp_path)
    missing = imgopt("upload", "nothing.csv", "--api", nowhere, cwd=tmp_path)

    assert unreachable.returncode == 4 and f"could not reach the imgopt API at {nowhere}" in unreachable.stderr
    assert missing.returncode == 2 and "no such file: nothing.csv" in missing.stderr


def test_the_key_comes_from_the_environment_and_is_sent_as_a_bearer_token(tmp_path):
    with LocalServer() as api:
        api.route(
            "/status/00000000-0000-0000-0000-000000000001", Reply(b'{"status": 401, "code": "unauthorized"}', 401)
        )

        run = imgopt(
            "status",
            "00000000-0000-0000-0000-000000000001",
            cwd=tmp_path,
            IMGOPT_API_URL=api.url(""),
            IMGOPT_API_KEY="imgopt_k2",
        )

    assert api.requests[0].headers["authorization"] == "Bearer imgopt_k2"
    assert run.returncode == 3 and "401 unauthorized" in run.stderr
