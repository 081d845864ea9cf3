"""What `pip install imgopt` brings: the service and the library, not the tests' or the demo's tools."""

import subprocess
import sys
import tarfile
import tomllib
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


def test_the_sdist_and_the_wheel_hold_exactly_the_tracked_files_and_nothing_untracked(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=120)
    # The clone has the committed tree; the working tree's uncommitted edits are what is under test.
    for path in subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split():
        if (ROOT / path).is_file():
            (clone / path).parent.mkdir(parents=True, exist_ok=True)
            (clone / path).write_bytes((ROOT / path).read_bytes())
    (clone / "notes.txt").write_text("an untracked file\n")
    (clone / "imgopt" / "scratch.py").write_text("TOKEN = 'an untracked file inside the package'\n")
    (clone / "tests" / "unit" / "local.env").write_text("IMGOPT_DATABASE_URL=postgresql://me:secret@db/prod\n")
    (clone / "data" / "seaweedfs").mkdir(parents=True)
    (clone / "data" / "seaweedfs" / "s3.json").write_text('{"accessKey": "AKIA-not-for-the-sdist"}\n')
    tracked = set(
        subprocess.run(["git", "ls-files"], cwd=clone, capture_output=True, text=True, check=True).stdout.split()
    )
    tracked = {path for path in tracked if (clone / path).is_file()}

    subprocess.run(
        ["uv", "build", "--sdist", "--wheel", "--out-dir", str(tmp_path / "dist"), str(clone)],  # both from the tree
        check=True,
        capture_output=True,
        timeout=300,
    )
    [sdist] = (tmp_path / "dist").glob("imgopt-*.tar.gz")
    with tarfile.open(sdist) as archive:
        packed = {
            name.split("/", 1)[1] for name in archive.getnames() if "/" in name and archive.getmember(name).isfile()
        }

    assert "notes.txt" not in packed and not [name for name in packed if name.startswith("data/")]
    assert "imgopt/scratch.py" not in packed and "tests/unit/local.env" not in packed
    assert packed - {"PKG-INFO"} == tracked
    [wheel] = (tmp_path / "dist").glob("imgopt-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = {name for name in archive.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert in_wheel == {path for path in tracked if path.startswith("imgopt/")}


def test_the_sdist_names_every_top_level_entry_git_tracks():
    configured = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["sdist"]
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()

    assert set(configured["only-include"]) == {path.split("/")[0] for path in files}


def test_the_client_wheel_alone_in_a_fresh_venv_imports_with_httpx_and_msgspec_only(tmp_path):
    subprocess.run(
        ["uv", "build", "--quiet", "--wheel", "--out-dir", str(tmp_path), str(ROOT / "clients" / "python")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("imgopt_client-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert {name.split("/")[1] for name in archive.namelist() if name.startswith("imgopt/")} == {"client"}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    subprocess.run(["uv", "pip", "install", "--quiet", "--python", python, str(wheel)], check=True, timeout=300)

    imported = subprocess.run(
        [python, "-c", "import imgopt.client, msgspec; print(imgopt.client.Client.__name__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    listed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
    names = {line.split("==")[0].lower().replace("_", "-") for line in listed.split()} - {"pip", "setuptools"}

    assert imported.returncode == 0 and imported.stdout.strip() == "Client", imported.stderr
    # httpx's own: anyio, certifi, httpcore, h11, idna (sniffio, typing-extensions by anyio's version).
    assert {"imgopt-client", "httpx", "msgspec"} <= names
    assert names <= {
        "imgopt-client",
        "httpx",
        "msgspec",
        "anyio",
        "certifi",
        "httpcore",
        "h11",
        "idna",
        "sniffio",
        "typing-extensions",
        "exceptiongroup",
    }, names


def test_the_server_wheel_leaves_the_client_to_imgopt_client_at_its_version(tmp_path):
    subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300
    )
    [wheel] = tmp_path.glob("imgopt-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))

    assert not [name for name in names if name.startswith("imgopt/client/")]
    assert "Requires-Dist: imgopt-client==0.1.0" in metadata.splitlines()


def test_in_the_checkout_imgopt_client_comes_from_clients_python_beside_the_server_package():
    script = "import imgopt, imgopt.client, imgopt.domain; print(imgopt.client.__file__); print(imgopt.domain.__file__)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    client, domain = done.stdout.split()

    assert Path(client).is_relative_to(ROOT / "clients" / "python" / "imgopt" / "client")
    assert Path(domain).is_relative_to(ROOT / "imgopt")
