"""The project's own checks on its shape: imports point inward, the core needs nothing but Python."""

import ast
import subprocess
import sys
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "imgopt"


def imports_of(layer: str) -> dict[str, set[str]]:
    """Top-level module names each file of the layer imports."""
    found = {}
    for path in (PACKAGE / layer).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_layers_import_only_inward():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_domain_and_application_use_the_standard_library_only():
    for layer in ("domain", "application"):
        for path, names in imports_of(layer).items():
            outside = names - sys.stdlib_module_names - {"imgopt"}
            assert not outside, f"{path} imports {sorted(outside)}"


def test_only_bootstrap_and_entrypoints_know_the_container():
    for layer in ("domain", "application", "adapters"):
        for path, names in imports_of(layer).items():
            assert "dependency_injector" not in names, path


def test_opencv_is_loaded_only_when_an_image_is_scored():
    # The API and the optimizers import no OpenCV (0.5 s, 14 MB); quality=auto's scorer loads it when first used.
    probe = (
        "import sys, imgopt.entrypoints.http.app, imgopt.adapters.imaging.vips, imgopt.adapters.imaging.pillow;"
        "print('cv2' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)

    assert loaded.stdout.strip() == "False"
