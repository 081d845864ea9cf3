"""Where the suite reads its inputs and keeps what it generates."""

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
WORK = PACKAGE / ".work"
RESULTS = PACKAGE / "results"


def corpus_dir() -> Path:
    """The shared test images; they are read in place, never copied into the project."""
    configured = os.environ.get("IMGOPT_CORPUS_DIR")
    candidates = [Path(configured)] if configured else [ROOT.parent / "shared" / "corpus", Path("/work/shared/corpus")]
    for candidate in candidates:
        if (candidate / "photo-2725x2225.jpg").is_file():
            return candidate
    raise FileNotFoundError(f"the image corpus is not at {' or '.join(map(str, candidates))}; set IMGOPT_CORPUS_DIR")


def work_dir(*parts: str) -> Path:
    path = WORK.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
