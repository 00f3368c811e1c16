"""How fast the dashboard plays, measured as a trainer sees it: in headless Chromium.

For each county size and mode (one county, or two compared):

* **start** — from launching ``ruralgov dashboard`` to its first HTTP answer, and from opening
  the page to its Step button;
* **step latency** — from a click on Step until the last picture of the page has updated (a
  MutationObserver stamps every change of an image; the latency is the last stamp after the
  click, once the page has been quiet for a second), median and min of ``--clicks`` clicks;
* **play** — with 0 ms between steps, the steps advanced and the pictures shown per second
  over ``--play`` seconds;
* the server's CPU time (``psutil``: process and children, user + system) beside wall time.

Run: ``make bench-dashboard`` or ``.venv/bin/python benchmarks/dashboard.py`` (needs the
dashboard extra, Playwright and Debian's ``chromium``); ``--villagers 2000 50000``,
``--million`` (how far 1,000,000 villagers are from 5 steps/s, measured in process),
``--json benchmarks/dashboard.json``.
The machine is shared: the figures are only as quiet as the machine was (the JSON records the
load average).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

OBSERVE = """() => {
  window.__stamps = [];
  const isImg = (n) => n.tagName === 'IMG' || (n.querySelector && n.querySelector('img'));
  new MutationObserver((ms) => {
    for (const m of ms) {
      if ((m.type === 'attributes' && m.target.tagName === 'IMG')
          || (m.type === 'childList' && [...m.addedNodes].some(isImg))) {
        window.__stamps.push(performance.now());
        return;
      }
    }
  }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['src'],
                             childList: true});
}"""
"""Stamps the page time of every change of a picture (an image's source, or an image added)."""


def _cpu(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _scenario(folder: Path, villagers: int) -> Path:
    f = folder / f"bench_{villagers}.yaml"
    f.write_text(f"title: Baseline county, {villagers:,} villagers\n"
                 "story: The baseline county at the size being measured.\n"
                 f"parameters: {{n_villagers: {villagers}}}\n", encoding="utf-8")
    return f


def _serve(scenario: Path, port: int) -> tuple[subprocess.Popen, float]:
    exe = Path(sys.executable).with_name("ruralgov")
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(exe), "dashboard", str(scenario), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()
            return proc, time.perf_counter() - t0
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("the dashboard did not start") from None
            time.sleep(0.05)


def _quiet_after(page, t0: float, quiet_ms: float = 1000.0, limit_s: float = 60.0) -> float:
    """The last image change after ``t0`` (page time, ms), once nothing changed for
    ``quiet_ms``."""
    end = time.perf_counter() + limit_s
    while time.perf_counter() < end:
        now, last = page.evaluate(
            "() => [performance.now(), Math.max(0, ...window.__stamps)]")
        if last > t0 and now - last > quiet_ms:
            return last - t0
        time.sleep(0.05)
    raise RuntimeError("the page did not settle")


def _latencies(page, clicks: int) -> list[float]:
    out = []
    step = page.get_by_role("button", name="Step", exact=True)
    for _ in range(clicks):
        t0 = page.evaluate("() => performance.now()")
        step.click()
        out.append(_quiet_after(page, t0) / 1000.0)
    return out


def _play(page, seconds: float) -> tuple[float, float]:
    """Steps per second and picture updates per second while playing with 0 ms pauses."""
    page.get_by_text("ms between steps when playing").locator(
        "xpath=following::*[@role='slider'][1]").focus()
    page.keyboard.press("Home")
    header = page.get_by_text("· seed").first

    def step_now() -> int:
        return int(header.inner_text().split()[1])

    s0 = step_now()
    n0 = page.evaluate("() => window.__stamps.length")
    page.get_by_role("button", name="▶").click()
    time.sleep(seconds)
    page.get_by_role("button", name="❚❚").click()
    s1 = step_now()
    n1 = page.evaluate("() => window.__stamps.length")
    images = page.evaluate("() => document.querySelectorAll('img').length")
    return (s1 - s0) / seconds, (n1 - n0) / max(images, 1) / seconds


def measure(villagers: int, compare: bool, clicks: int, play_s: float, port: int,
            folder: Path) -> dict:
    from playwright.sync_api import sync_playwright

    proc, answer_s = _serve(_scenario(folder, villagers), port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("button", name="Step", exact=True).wait_for(timeout=120_000)
            usable_s = time.perf_counter() - t0
            if compare:
                page.get_by_role("button", name="Compare").click()
                page.get_by_text("Step 0 · seed").wait_for(timeout=120_000)
                time.sleep(2)
            page.evaluate(OBSERVE)
            _latencies(page, 2)  # warm up
            cpu0, w0 = _cpu(proc.pid), time.perf_counter()
            lat = _latencies(page, clicks)
            cpu_per_step = (_cpu(proc.pid) - cpu0) / clicks
            wall_per_step = (time.perf_counter() - w0) / clicks
            steps_s, pictures_s = _play(page, play_s)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"villagers": villagers, "mode": "compare" if compare else "single",
            "server_answers_s": round(answer_s, 2), "page_usable_s": round(usable_s, 2),
            "step_latency_median_s": round(statistics.median(lat), 3),
            "step_latency_min_s": round(min(lat), 3),
            "step_latency_max_s": round(max(lat), 3), "clicks": clicks,
            "server_cpu_per_click_s": round(cpu_per_step, 3),
            "wall_per_click_s": round(wall_per_step, 3),
            "play_steps_per_s": round(steps_s, 2), "play_pictures_per_s": round(pictures_s, 2),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def million(n: int = 1_000_000, steps: int = 5) -> dict:
    """How far a county of ``n`` villagers is from playing at 5 steps/s: the model's step
    (with the dashboard's detail tables) and the pictures' update, in this process, one
    thread, CPU time, median of ``steps`` (the dashboard itself refuses counties above
    50,000)."""
    from threadpoolctl import threadpool_limits

    from ruralgov.app.dashboard import session as S
    from ruralgov.app.dashboard import views as V
    from ruralgov.model import RuralGovernanceModel

    with threadpool_limits(1):
        m = RuralGovernanceModel(seed=1, n_villagers=n, n_townships=20,
                                 villages_per_township=25)
        m.scenario_name = "baseline"
        models = {"": m}
        views = [V.SeriesView([""]), V.NetworkView(models, {"": S.network_layout(m)}),
                 V.LegitimacyView([""])]
        m.step()
        for v in views:
            v.update(models).frame()
        step, pictures = [], []
        for _ in range(steps):
            c0 = time.process_time()
            m.step()
            c1 = time.process_time()
            for v in views:
                v.update(models).frame()
            S.events(m)
            S.table_html(S.township_table(m))
            pictures.append(time.process_time() - c1)
            step.append(c1 - c0)
    a, b = statistics.median(step), statistics.median(pictures)
    return {"villagers": n, "model_step_cpu_s": round(a, 3), "pictures_cpu_s": round(b, 3),
            "steps_per_s_at_best": round(1 / (a + b), 2), "target_steps_per_s": 5.0,
            "note": "the network view draws a 1,500-villager sample; no village-level view"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--villagers", type=int, nargs="+", default=[2000])
    ap.add_argument("--clicks", type=int, default=20)
    ap.add_argument("--play", type=float, default=10.0, help="seconds of play")
    ap.add_argument("--single-only", action="store_true", help="not the compare mode")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--million", action="store_true",
                    help="also how far 1,000,000 villagers are from 5 steps/s (in process)")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.villagers:
            for compare in (False,) if args.single_only else (False, True):
                row = measure(n, compare, args.clicks, args.play, 8870 + len(rows), Path(tmp))
                rows.append(row)
                print(f"{row['villagers']:>9,} {row['mode']:<8} "
                      f"step {row['step_latency_median_s']:.3f} s "
                      f"(min {row['step_latency_min_s']:.3f}, max {row['step_latency_max_s']:.3f}; "
                      f"server CPU {row['server_cpu_per_click_s']:.3f} s) · play "
                      f"{row['play_steps_per_s']:.1f} steps/s, {row['play_pictures_per_s']:.1f} "
                      f"pictures/s · answers in {row['server_answers_s']:.1f} s, usable "
                      f"{row['page_usable_s']:.1f} s later", flush=True)
    out: dict = {"dashboard": rows}
    if args.million:
        out["million"] = big = million()
        print(f"{big['villagers']:>9,} in process: model step {big['model_step_cpu_s']:.3f} s "
              f"+ pictures {big['pictures_cpu_s']:.3f} s CPU → at best "
              f"{big['steps_per_s_at_best']:.1f} steps/s (target 5)", flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
