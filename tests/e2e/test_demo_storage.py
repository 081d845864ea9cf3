"""`imgopt demo --storage s3` runs the same job with its outputs in an embedded SeaweedFS."""

import os
import subprocess
import sys


def test_the_demo_on_s3_stores_its_outputs_in_seaweedfs_and_serves_them_through_the_api(
    database_url, clean_database, tmp_path
):
    environment = {
        **os.environ,
        "IMGOPT_DATABASE_URL": database_url,
        "IMGOPT_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",
    }

    result = subprocess.run(
        [sys.executable, "-m", "imgopt.entrypoints.cli", "demo", "--images", "4", "--storage", "s3"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "outputs in s3://imgopt-demo/outputs on an embedded SeaweedFS" in result.stdout
    assert "4 optimized, 1 failed" in result.stdout and "signature verified" in result.stdout
    assert "after a redirect to a presigned URL: HTTP 200, image/jpeg" in result.stdout
    assert not (tmp_path / "files").exists()
    assert list((tmp_path / "seaweedfs").glob("imgopt-demo_*.dat"))
