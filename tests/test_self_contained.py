"""The project stands on its own: no file of the repository cites a document that lives outside
it. The model's concept — research question, mechanisms, measures, hypotheses H1–H14, realism
patterns, classic models and governance instruments — is described in docs/hypotheses.md and
docs/ODD.md, and code, tests, experiments, docs and the generated report cite those."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: references to the external design note and to the folder it lives in
FORBIDDEN = ("MODEL.md", "shared/design", "../shared/")


def _repository_files() -> list[Path]:
    """Files tracked by git, plus new files not yet added (but not ignored ones)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (e.g. an sdist): no file list to check")
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in sorted(set(out.decode("utf-8").split("\0"))) if name]


def _text(path: Path) -> str | None:
    """The file's text, or None for binary files and files missing from the work tree."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_no_file_cites_documents_outside_the_repository():
    files = _repository_files()
    assert files
    me = Path(__file__).resolve()
    offenders = []
    for path in files:
        if path.resolve() == me:
            continue
        text = _text(path)
        if text is None:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            for needle in FORBIDDEN:
                if needle in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {needle!r}")
    assert not offenders, ("files cite a document outside the repository (cite "
                           "docs/hypotheses.md or docs/ODD.md instead):\n" + "\n".join(offenders))


def test_the_projects_own_concept_page_exists():
    page = ROOT / "docs" / "hypotheses.md"
    assert page.is_file()
    text = page.read_text(encoding="utf-8")
    for ident in [f"H{i}" for i in range(1, 15)] + [f"R{i}" for i in range(1, 5)]:
        assert f"\n### {ident} " in text, f"docs/hypotheses.md has no heading for {ident}"
