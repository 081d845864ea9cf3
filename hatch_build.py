"""The sdist and the wheel take the files git tracks, and no others: a scratch file or a credentials
file left untracked inside a packaged folder stays out, whatever .gitignore says.

Hatchling picks a target's files by walking the folders it is given (the sdist's `only-include`,
the wheel's `packages`), less what .gitignore names, so an untracked, un-ignored file there would go
in. Where the tree is a git checkout, this hook includes the tracked files under those same folders,
and excludes everything the walk would add. Elsewhere (an unpacked sdist, from which the wheel is
built) there is no index to ask and the walk is left as it is: such a tree holds only what was packed.
An editable install packs no files, so it is left alone.
"""

import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class TrackedFilesOnly(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        tracked = _tracked_files(root)
        if tracked is None:
            return
        # What hatchling would walk for this target (source path -> path in the artifact).
        walked = self.build_config.only_include
        folders = {Path(source).relative_to(root).as_posix(): target for source, target in walked.items()}
        for path in tracked:
            target = _target(path, folders)
            if target is not None and not self.build_config.path_is_excluded(path):
                build_data["force_include"][str(root / path)] = target
        self.build_config.set_exclude_all()


def _target(path: str, folders: dict[str, str]) -> str | None:
    """Where a tracked file goes in the artifact, or None: it is under none of the folders packed."""
    for folder, target in folders.items():
        if path == folder:
            return target
        if path.startswith(folder + "/"):
            return f"{target}/{path[len(folder) + 1 :]}"
    return None


def _tracked_files(root: Path) -> list[str] | None:
    """The files git tracks in `root` that are there (a deleted one is not), or None: not a git work tree."""
    if shutil.which("git") is None or not (root / ".git").exists():
        return None
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    paths = [path for path in listed.decode().split("\0") if path]
    return [path for path in paths if (root / path).is_file()]
