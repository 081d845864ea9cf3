"""Every relative link in the README and docs/ names a file or folder that exists (files move: the dashboard did)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_relative_link_in_the_readme_and_the_docs_resolves():
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken, checked = [], 0
    for document in documents:
        for target in LINK.findall(document.read_text()):
            path = target.split("#", 1)[0]
            if not path or re.match(r"^[a-z]+:", path):
                continue
            checked += 1
            if not (document.parent / path).exists():
                broken.append(f"{document.relative_to(ROOT)} -> {target}")

    assert checked > 10
    assert not broken, broken
