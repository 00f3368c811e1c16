"""The documentation site: it builds with ``mkdocs build --strict`` (a broken link or anchor, a
missing page or a docstring mkdocstrings cannot read fails), the generated pages cover every
scenario file and every module, and every code block of every page runs, in order, in an empty
folder — shell blocks with the installed ``ruralgov`` on PATH, Python blocks in one namespace
per page, ``title="file"`` blocks written to that file first. A block is shown but not run only
when the page says why (``<!-- not run: reason -->`` right above it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
QUIET = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}

FENCE = re.compile(r"(?:<!-- not run: (?P<why>[^>]*?) -->\n)?"
                   r"^```(?P<lang>[\w-]*)(?P<info>[^\n]*)\n(?P<code>.*?)^```\s*$", re.S | re.M)


def blocks(page: Path) -> list[dict]:
    return [m.groupdict() for m in FENCE.finditer(page.read_text(encoding="utf-8"))]


def _title(info: str) -> str | None:
    m = re.search(r'title="([^"]+)"', info)
    return m.group(1) if m else None


def pages_with_code() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if blocks(p))


#: what some pages must have made when all their blocks have run
PRODUCES = {
    "tutorial.md": ["tutorial/smoke-analysis/main_effects.png"],
    "getting-started.md": ["first-run/manifest.json", "my-county/series.parquet"],
    "guides/researcher.md": ["sweeps/local-analysis/SUMMARY.md", "sweeps/sharded/manifest.json"],
    "guides/trainer.md": ["handout/fragmented-vs-integrated.png"],
    "guides/trainer.zh.md": ["讲义/对比.png", "讲义/条块分割/figure.png"],
    "guides/student.md": ["my-paper/REPORT.md"],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=900,
                         env={**os.environ, **QUIET})
    assert res.returncode == 0, res.stderr[-4000:]
    return out, res.stderr


def test_site_builds_strictly_without_warnings(site):
    out, log = site
    assert "WARNING" not in log, log
    for page in ("index.html", "getting-started.html", "ODD.html", "hypotheses.html",
                 "guides/researcher.html", "guides/trainer.html", "guides/student.html",
                 "tutorial.html", "paper/REPORT.html", "changelog.html", "citation.html",
                 "reference/index.html"):
        assert (out / page).is_file(), page
    # the studies beside the paper's report, with their figures
    for page, figure in (("paper/robustness/ROBUSTNESS.html", "robustness.png"),
                         ("paper/robustness-posterior/ROBUSTNESS.html", "robustness.png"),
                         ("paper/calibration/CALIBRATION.html", "calibration.png")):
        assert f'src="figures/{figure}"' in (out / page).read_text(encoding="utf-8"), page
        assert (out / page).parent.joinpath("figures", figure).is_file(), page


def test_site_loads_nothing_from_the_internet(site):
    """Trainers open it in rooms without internet: no script, style sheet, font or image is
    fetched from outside the site (links to other sites are fine)."""
    out, _ = site
    for page in out.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        external = re.findall(r'<(?:script|img|iframe)[^>]*\ssrc="(?:https?:)?//[^"]+"', html)
        external += [tag for tag in re.findall(r"<link[^>]*>", html)
                     if re.search(r'href="(?:https?:)?//', tag)
                     and re.search(r'rel="(?:stylesheet|preconnect|preload|icon)"', tag)]
        assert not external, (page, external[:3])


def test_gallery_has_every_scenario_with_its_figure(site):
    out, _ = site
    html = (out / "gallery.html").read_text(encoding="utf-8")
    from ruralgov.io.scenario import load_scenario

    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert files
    for f in files:
        s = load_scenario(f)
        assert f'src="{s.name}.png"' in html or f'gallery/{s.name}.png' in html, s.name
        assert (out / "gallery" / f"{s.name}.png").stat().st_size > 10_000, s.name
        assert s.title.split(" (")[0] in html, s.title
        for key in s.parameters:
            assert f"<code>{key}</code>" in html, (s.name, key)


def test_api_reference_covers_every_module_and_renders_docstrings(site):
    out, _ = site
    src = ROOT / "src" / "ruralgov"
    for path in src.rglob("*.py"):
        mod = path.relative_to(src).with_suffix("")
        if any(p.startswith("_") for p in mod.parts[:-1]) or mod.parts[-1] == "__main__":
            continue  # private modules have no API page
        if mod.parts[-1] == "__init__":
            if len(mod.parts) == 1:
                continue  # the package itself: the reference's index
            page = out / "reference" / mod.parent / "index.html"
        elif mod.parts[-1].startswith("_"):
            continue
        else:
            page = (out / "reference" / mod).with_suffix(".html")
        assert page.is_file(), f"no API page for ruralgov.{'.'.join(mod.parts)}"
    model = (out / "reference" / "model" / "county.html").read_text(encoding="utf-8")
    assert "RuralGovernanceModel" in model and "detail" in model


def test_paper_results_are_on_the_site(site):
    out, _ = site
    report = ROOT / "results" / "paper" / "REPORT.md"
    html = (out / "paper" / "REPORT.html").read_text(encoding="utf-8")
    for hyp in re.findall(r"^\| \[(H\d+|R\d)\]", report.read_text(encoding="utf-8"), re.M):
        assert f">{hyp}<" in html, hyp
    for fig in re.findall(r"\]\((figures/[^)]+\.png)\)", report.read_text(encoding="utf-8")):
        assert (out / "paper" / fig).is_file(), fig


_MD_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def repo_links(page: Path) -> list[str]:
    """The relative link targets of a Markdown file, outside code blocks (no scheme, no bare
    anchor)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    return [t for t in _MD_LINK.findall(text)
            if not re.match(r"^[a-z][a-z0-9+.-]*:", t) and not t.startswith(("#", "/"))]


def test_every_link_resolves_in_the_repository_too():
    """Links are written for the repository (GitHub, an editor) and rewritten for the site by
    docs/hooks.py; the strict build checks the site, this the repository."""
    pages = [*DOCS.rglob("*.md"), ROOT / "README.md", ROOT / "README.zh.md",
             ROOT / "results" / "README.md", ROOT / "experiments" / "README.md"]
    drawn = {DOCS / "gallery" / "baseline.png"}  # drawn by the site build (gen_pages.py) from
    # the scenario files: no copy in the repository, where it would go stale
    broken = [f"{page.relative_to(ROOT)}: {t}" for page in pages if page.is_file()
              for t in repo_links(page)
              if not (page.parent / t.partition("#")[0]).exists()
              and (page.parent / t).resolve() not in drawn]
    assert not broken, broken


def test_the_hook_maps_repository_files_to_their_pages():
    sys.path.insert(0, str(DOCS))
    try:
        from hooks import rewrite
    finally:
        sys.path.remove(str(DOCS))
    md = ("[r](../results/paper/REPORT.md#h1) [c](../results/calibration/targets/CALIBRATION.md) "
          "[p](../src/ruralgov/model/params.py) [g](../scenarios/) [o](ODD.md#4) "
          "[w](https://example.org/x.md)")
    assert rewrite(md, "index.md") == (
        "[r](paper/REPORT.md#h1) [c](paper/calibration/CALIBRATION.md) "
        "[p](reference/model/params.md) [g](gallery.md) [o](ODD.md#4) "
        "[w](https://example.org/x.md)")
    assert rewrite("[s](../../src/ruralgov/)", "guides/student.md") == "[s](../reference/index.md)"
    # a generated report is read from its place in the repository
    got = rewrite("[h](../../docs/hypotheses.md#7)", "paper/REPORT.md")
    assert got == "[h](../hypotheses.md#7)"
    assert rewrite("[f](figures/H1.png)", "paper/REPORT.md") == "[f](figures/H1.png)"


def test_every_code_block_is_run_written_or_says_why_not():
    for page in pages_with_code():
        for b in blocks(page):
            lang, title = b["lang"], _title(b["info"])
            if b["why"] is not None:
                assert b["why"].strip(), f"{page}: a not-run marker without a reason"
                continue
            assert lang in ("sh", "python", "") or title, (
                f"{page.relative_to(DOCS)}: a ```{lang} block is neither run, written to a "
                "file (title=...), nor marked <!-- not run: reason -->")


@pytest.mark.parametrize("page", [p.relative_to(DOCS).as_posix() for p in pages_with_code()
                                  if any(b["lang"] in ("sh", "python") and b["why"] is None
                                         for b in blocks(p))])
def test_every_block_of_the_page_runs(page, tmp_path, monkeypatch):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}", "MPLBACKEND": "Agg"}
    env.pop("SCRATCH", None)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    for i, b in enumerate(blocks(DOCS / page)):
        if b["why"] is not None:
            continue
        title = _title(b["info"])
        if title:
            (tmp_path / title).write_text(b["code"], encoding="utf-8")
        elif b["lang"] == "sh":
            res = subprocess.run(["bash", "-euo", "pipefail", "-c", b["code"]], cwd=tmp_path,
                                 env=env, capture_output=True, text=True, timeout=900)
            assert res.returncode == 0, f"{page} block {i}:\n{b['code']}\n{res.stderr[-3000:]}"
            ran += 1
        elif b["lang"] == "python":
            exec(compile(b["code"], f"{page} block {i}", "exec"), namespace)
            ran += 1
    assert ran >= 2
    for path in PRODUCES.get(page, []):
        assert (tmp_path / path).exists(), f"{page}: expected {path}"
