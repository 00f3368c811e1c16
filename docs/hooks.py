"""A MkDocs hook: links are written for the repository, and rewritten for the site.

Every page of ``docs/`` links to files as they lie in the repository (the calibration's report
is ``../results/calibration/targets/CALIBRATION.md``, the parameters are
``../src/ruralgov/model/params.py``), so the links work when the Markdown is read on GitHub or
in an editor. The site has some of those files at other places (``docs/gen_pages.py`` copies
the reports into ``paper/``, generates the gallery and the API reference); this hook rewrites a
link to a repository file into a link to its page on the site, before MkDocs checks the links.
The generated pages (the reports) are read at their repository place too, so the links inside
them are resolved from there. A link to a repository file that has no page on the site is left
alone, and the strict build fails on it; tests/test_docs.py checks that every link resolves in
the repository.
"""

from __future__ import annotations

import posixpath
import re

#: repository path -> page on the site (a folder's files go to the page folder)
SITE = {
    "results/paper/REPORT.md": "paper/REPORT.md",
    "results/paper/DISCUSSION.md": "paper/DISCUSSION.md",
    "results/robustness/ROBUSTNESS.md": "paper/robustness/ROBUSTNESS.md",
    "results/robustness-posterior/ROBUSTNESS.md": "paper/robustness-posterior/ROBUSTNESS.md",
    "results/calibration/targets/CALIBRATION.md": "paper/calibration/CALIBRATION.md",
    "results/paper/figures": "paper/figures",
    "results/robustness/figures": "paper/robustness/figures",
    "results/robustness-posterior/figures": "paper/robustness-posterior/figures",
    "results/calibration/targets/figures": "paper/calibration/figures",
    "results/calibration/targets/sbc": "paper/calibration/sbc",
    "CHANGELOG.md": "changelog.md",
    "CITATION.cff": "citation.md",
    "scenarios": "gallery.md",
    "src/ruralgov": "reference/index.md",
}
#: page on the site -> its repository path (the generated reports are read from there)
SOURCE = {page: repo for repo, page in SITE.items() if repo.endswith(".md")}

_LINK = re.compile(r"(\]\()([^)\s]+)(\))")
_MODULE = re.compile(r"src/ruralgov/(.+)\.py$")


def site_target(repo: str) -> str | None:
    """The site page of a repository path (normalised, from the root), or None."""
    if repo.startswith("docs/"):
        return repo[len("docs/"):]
    if repo in SITE:
        return SITE[repo]
    m = _MODULE.match(repo)
    if m and not m.group(1).split("/")[-1].startswith("_"):
        return f"reference/{m.group(1)}.md"
    for folder, page in SITE.items():
        if repo.startswith(folder + "/") and not page.endswith(".md"):
            return page + repo[len(folder):]
    return None


def rewrite(markdown: str, page_uri: str) -> str:
    """``markdown`` of the site page ``page_uri`` with its repository links made site links."""
    here = SOURCE.get(page_uri, "docs/" + page_uri)
    base = posixpath.dirname(here)

    def fix(m: re.Match) -> str:
        target = m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return m.group(0)
        path, sep, frag = target.partition("#")
        repo = posixpath.normpath(posixpath.join(base, path))
        site = site_target(repo.rstrip("/"))
        if site is None:
            return m.group(0)
        rel = posixpath.relpath(site, posixpath.dirname(page_uri) or ".")
        return f"{m.group(1)}{rel}{sep}{frag}{m.group(3)}"

    return _LINK.sub(fix, markdown)


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 - MkDocs' signature
    return rewrite(markdown, page.file.src_uri)
