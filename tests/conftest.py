"""Shared helpers: small, fast model runs over a fixed set of seeds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from ruralgov.model import RuralGovernanceModel
from ruralgov.model.measures import summarise

#: A small county: fast enough for many runs, large enough for stable averages.
SMALL = dict(n_villagers=600, n_townships=2, villages_per_township=3)
SEEDS = range(6)


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """The shipped smoke experiment swept once, serially (read by analysis and discovery)."""
    from pathlib import Path

    from ruralgov.study.experiment import load_experiment
    from ruralgov.study.sweep import run_sweep

    out = tmp_path_factory.mktemp("smoke")
    root = Path(__file__).resolve().parents[1]
    run_sweep(load_experiment(root / "experiments" / "smoke.yaml"), out, workers=1,
              progress=False)
    return out


def run_model(steps: int = 60, seed: int = 0, **params) -> RuralGovernanceModel:
    model = RuralGovernanceModel(seed=seed, collect_detail=False, **{**SMALL, **params})
    for _ in range(steps):
        model.step()
    return model


def mean_summary(measure: str, steps: int = 60, seeds=SEEDS, **params) -> float:
    """Mean over seeds of a per-run summary measure."""
    values = [summarise(run_model(steps, seed, **params).series())[measure] for seed in seeds]
    return float(np.mean(values))


@pytest.fixture
def repo_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[1]


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


#: Chromium's flags for the tests: no sandbox (root in a container), nothing fetched.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def playwright_api():
    """One Playwright per test module (two at once cannot run in one thread): the module's
    browsers are launched from it."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_api):
    """Debian's chromium driven by Playwright (the dashboard's and the room's browser tests);
    missing, it fails the run in CI (.ci/run installs it) and skips elsewhere."""
    b = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


def free_port() -> int:
    """A free TCP port on this machine (for a server a test starts)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_sessionfinish(session, exitstatus):
    """The suite leaves nothing running: every process a test started (servers, pools,
    browsers, sweeps) must be gone by the end. Leftovers are listed, killed, and fail the
    run."""
    import psutil

    def ours(p: psutil.Process) -> bool:
        try:  # multiprocessing's resource tracker lives as long as this process, by design
            return "resource_tracker" not in " ".join(p.cmdline())
        except psutil.Error:
            return False

    children = [p for p in psutil.Process().children(recursive=True) if ours(p)]
    gone, alive = psutil.wait_procs(children, timeout=10)
    if alive:
        listing = "\n".join(f"  {p.pid}: {' '.join(p.cmdline())[:200]}" for p in alive
                            if p.is_running())
        for p in alive:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"processes left running by the tests (now killed):\n{listing}",
                                red=True)
        session.exitstatus = 1


#: The only system fonts a "bare" browser sees: Latin ones (Debian's DejaVu).
LATIN_FONTS = Path("/usr/share/fonts/truetype/dejavu")


@pytest.fixture(scope="module")
def bare_browser(playwright_api, tmp_path_factory):
    """Chromium on a machine without any Chinese system font, as a trainer's laptop or a
    container may be: fontconfig shown only the Latin fonts (the check that it sees no
    Chinese font is part of the fixture)."""
    import subprocess

    if not LATIN_FONTS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{LATIN_FONTS} is missing: Debian's chromium brings it")
        pytest.skip(f"{LATIN_FONTS} is missing")
    folder = tmp_path_factory.mktemp("fontconfig")
    conf = folder / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                    f"<fontconfig><dir>{LATIN_FONTS}</dir>"
                    f"<cachedir>{folder / 'cache'}</cachedir></fontconfig>\n")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":lang=zh"], env=env, capture_output=True,
                                text=True, timeout=60).stdout
        assert listed.strip() == "", f"the bare browser still sees Chinese fonts: {listed}"
    b = playwright_api.chromium.launch(executable_path=CHROMIUM, env=env, args=CHROMIUM_ARGS)
    yield b
    b.close()


def rendering_fonts(page, selector: str) -> set[str]:
    """The fonts that drew the text of the first element matching ``selector`` (Chromium's
    own account: CSS.getPlatformFontsForNode)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]
    node = cdp.send("DOM.querySelector", {"nodeId": root["nodeId"], "selector": selector})
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    cdp.detach()
    return {f["familyName"] for f in fonts if f["glyphCount"]}
