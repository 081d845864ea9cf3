"""What `pip install imgopt` brings: the service and the library, not the tests' or the demo's tools."""

import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# rich is not among them: `imgopt upload --wait`, a shipped command, draws its progress bar with it.
OPTIONAL = ("pgserver", "standardwebhooks", "testcontainers", "pytest", "playwright", "schemathesis")


def test_the_wheel_requires_no_test_or_demo_infrastructure_and_holds_only_the_package(tmp_path):
    subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300
    )
    [wheel] = tmp_path.glob("imgopt-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    requirements = [
        line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist:")
    ]

    unconditional = [r for r in requirements if "extra ==" not in r]
    assert not [r for r in unconditional if r.lower().startswith(OPTIONAL)], unconditional
    assert any(r.startswith("pgserver") and "extra == 'embedded'" in r for r in requirements)
    assert {name.split("/")[0] for name in names} == {
        "imgopt",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }


def test_the_wheel_is_pure_python_for_any_platform(tmp_path):
    subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300
    )
    [wheel] = tmp_path.glob("imgopt-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        wheel_metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/WHEEL"))

    assert wheel.name.endswith("-py3-none-any.whl")
    assert "Tag: py3-none-any" in wheel_metadata.splitlines()
    assert "Root-Is-Purelib: true" in wheel_metadata.splitlines()
    assert not [name for name in names if name.endswith((".so", ".pyd", ".c"))]
