"""`python -m bench.footprint [--installer pip|uv]`: what installing imgopt, or imgopt-client alone, brings.

Builds the workspace's wheels (imgopt and imgopt-client), installs each distribution into a fresh
`python3 -m venv`, and prints the packages installed (pip and setuptools, the venv's own, left out)
and the size of site-packages in MB. The server's requirements come from the package index; the
two wheels from the build.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_OWN = {"pip", "setuptools"}


def build_wheels(dist: Path) -> None:
    subprocess.run(
        ["uv", "build", "--quiet", "--all-packages", "--wheel", "--out-dir", str(dist), "--project", str(ROOT)],
        check=True,
    )


def install(venv: Path, dist: Path, wheel_glob: str, installer: str) -> list[str]:
    """Installs the wheel matching wheel_glob into a fresh venv; the `name==version` of what is there."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    [wheel] = dist.glob(wheel_glob)
    python = venv / "bin" / "python"
    if installer == "uv":
        command = ["uv", "pip", "install", "--quiet", "--python", str(python), "--find-links", str(dist), str(wheel)]
    else:
        command = [str(python), "-m", "pip", "install", "--quiet", "--find-links", str(dist), str(wheel)]
    subprocess.run(command, check=True)
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"], check=True, capture_output=True, text=True
    ).stdout.split()
    return [line for line in listed if line.split("==")[0].lower() not in VENV_OWN]


def site_packages_mb(venv: Path) -> int:
    [site] = venv.glob("lib/python3*/site-packages")
    return int(subprocess.run(["du", "-sm", str(site)], check=True, capture_output=True, text=True).stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installer", choices=("pip", "uv"), default="pip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imgopt-footprint-") as scratch:
        dist = Path(scratch) / "dist"
        build_wheels(dist)
        for name, wheel_glob in (("imgopt", "imgopt-*.whl"), ("imgopt-client", "imgopt_client-*.whl")):
            venv = Path(scratch) / name
            packages = install(venv, dist, wheel_glob, args.installer)
            print(f"{name}: {len(packages)} packages, {site_packages_mb(venv)} MB site-packages")
            print("  " + " ".join(packages))


if __name__ == "__main__":
    main()
