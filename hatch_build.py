"""Builds the optional compiled row scanner into the package; without a C compiler imgopt reads every row in Python."""

import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = "imgopt/adapters/postgres/_plain_copy.c"


class PlainCopyBuildHook(BuildHookInterface):
    """Compiles SOURCE with the compiler this Python was built with, as `sysconfig` names it.

    An editable install gets the module beside its source (the package is imported from the source
    tree); a wheel gets it from a scratch directory. A failure is reported and the build goes on:
    `imgopt.adapters.postgres.plain_copy.COMPILED` then says False and the Python path does the work.
    """

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        module = Path(SOURCE).with_suffix(sysconfig.get_config_var("EXT_SUFFIX") or ".so")
        if version == "editable":
            target = Path(self.root, module)
        else:
            self._scratch = tempfile.mkdtemp(prefix="imgopt-build-")
            target = Path(self._scratch, module.name)
        problem = _compile(Path(self.root, SOURCE), target)
        if problem:
            self.app.display_warning(f"imgopt: the compiled row scanner was not built ({problem}); using Python")
            return
        self.app.display_info(f"imgopt: built the compiled row scanner {module}")
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(target)] = str(module)

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        if getattr(self, "_scratch", None):
            shutil.rmtree(self._scratch, ignore_errors=True)


def _compile(source: Path, target: Path) -> str | None:
    """None once `target` is built from `source`, else why not."""
    linker = sysconfig.get_config_var("LDSHARED")
    if not linker:
        return "this Python names no compiler for extension modules"
    include = sysconfig.get_paths()["include"]
    flags = [*shlex.split(sysconfig.get_config_var("CCSHARED") or ""), "-O2", "-DNDEBUG", "-I", include]
    built = target.with_name(target.name + ".part")
    try:
        subprocess.run(
            [*shlex.split(linker), *flags, str(source), "-o", str(built)],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.SubprocessError) as error:
        output = getattr(error, "stderr", None) or str(error)
        return output.strip().splitlines()[-1] if output.strip() else type(error).__name__
    built.replace(target)  # at once: a running process may have the old one loaded
    return None
