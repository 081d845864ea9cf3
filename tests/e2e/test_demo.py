"""`imgopt demo` runs the whole job end to end and says so."""

import os
import subprocess
import sys


def test_the_demo_processes_its_samples_and_verifies_the_signed_webhook(database_url, clean_database, tmp_path):
    environment = {
        **os.environ,
        "IMGOPT_DATABASE_URL": database_url,
        "IMGOPT_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",
    }

    result = subprocess.run(
        [sys.executable, "-m", "imgopt.entrypoints.cli", "demo", "--images", "6"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "completed_with_errors" in result.stdout
    assert "6 optimized, 1 failed" in result.stdout
    assert "signature verified" in result.stdout
    assert "HTTP 404" in result.stdout
    [output_csv] = (tmp_path / "demo").glob("output-*.csv")
    assert output_csv.read_text().startswith("S. No.,Product Name,Input Image Urls,Output Image Urls")


def test_the_demo_reports_a_bad_csv_by_line_and_fails(database_url, clean_database, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("S. No.,Product Name,Input Image Urls\n1,,ftp://example.com/a.jpg\n")
    environment = {
        **os.environ,
        "IMGOPT_DATABASE_URL": database_url,
        "IMGOPT_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",
    }

    result = subprocess.run(
        [sys.executable, "-m", "imgopt.entrypoints.cli", "demo", "--csv", str(bad)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "line 2, column 'Product Name': is empty" in result.stdout
    assert "line 2, column 'Input Image Urls': only http and https URLs are allowed" in result.stdout
