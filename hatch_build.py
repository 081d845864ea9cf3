"""The sdist takes the files git tracks, and no others: a scratch file or a credentials file left
untracked inside a packaged folder stays out, whatever .gitignore says.

Hatchling picks an sdist's files by walking the tree (`only-include` in pyproject.toml, less what
.gitignore names), so an untracked, un-ignored file beside the sources would go in. Where the tree
is a git checkout, this hook lists the tracked files under those same folders, includes exactly
those and excludes everything the walk would add. Elsewhere (an unpacked sdist, an archive) there
is no index to ask, and the walk is left as it is: such a tree holds only what was packed.
"""

import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class TrackedFilesOnly(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "sdist":
            return
        tracked = _tracked_files(Path(self.root))
        if tracked is None:
            return
        wanted = [path for path in tracked if self.build_config.include_path(path, explicit=True)]
        build_data["force_include"].update({str(Path(self.root) / path): path for path in wanted})
        self.build_config.set_exclude_all()


def _tracked_files(root: Path) -> list[str] | None:
    """The files git tracks in `root` that are there (a deleted one is not), or None: not a git work tree."""
    if shutil.which("git") is None or not (root / ".git").exists():
        return None
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    paths = [path for path in listed.decode().split("\0") if path]
    return [path for path in paths if (root / path).is_file()]
