"""Another Python service uses imgopt as a library: the container and the use cases, no HTTP at all."""

import subprocess
import sys
import textwrap

from tests.support import LocalServer, Reply

SCRIPT = textwrap.dedent(
    """
    import io, sys
    from imgopt.adapters.postgres.engine import migrate
    from imgopt.bootstrap.containers import create_container
    from imgopt.bootstrap.settings import Settings

    settings = Settings(database_url=sys.argv[1], data_dir=sys.argv[2], allow_private_networks=True)
    container = create_container(settings)
    migrate(container.persistence.engine())
    use_cases = container.use_cases
    csv = f"S. No.,Product Name,Input Image Urls\\n1,Hat,{sys.argv[3]}\\n".encode()
    receipt = use_cases.ingest_csv()(io.BytesIO(csv))

    while jobs := use_cases.claim_images()(10):
        use_cases.record_outcomes()([use_cases.process_image()(job) for job in jobs])

    report = use_cases.get_status()(receipt.request_id, details=True)
    [product] = report.details.products
    print(report.summary.status, product.images[0].bytes_in, product.images[0].output_url, sep="|")
    print(",".join(sorted(m for m in ("litestar", "uvicorn") if m in sys.modules)))
    container.shutdown_resources()
    """
)


def test_a_service_ingests_processes_and_reads_status_without_importing_the_web_stack(
    database_url, clean_database, corpus, tmp_path
):
    photo = (corpus / "small-320x240.jpg").read_bytes()
    with LocalServer() as origin:
        url = origin.route("/photo.jpg", Reply(photo, headers={"Content-Type": "image/jpeg"}))

        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, database_url, str(tmp_path), url],
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert result.returncode == 0, result.stderr
    outcome, web_modules = result.stdout.splitlines()
    status, bytes_in, output_url = outcome.split("|")
    assert (status, int(bytes_in)) == ("completed", len(photo))
    assert (tmp_path / "files" / output_url.split("/files/")[1]).is_file()
    assert web_modules == ""
