"""The dashboard: its computations without a browser, and the real page end to end in headless
Chromium (Debian's `chromium`, driven by Playwright): load, pick a scenario, move a control,
step and play, compare mode, download — with no request leaving the machine."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara", reason="the dashboard extra is not installed")
from ruralgov.app.dashboard import session as S  # noqa: E402
from ruralgov.app.dashboard import views as V  # noqa: E402
from ruralgov.app.dashboard.labels import CONTROL_GROUPS, control_label  # noqa: E402
from ruralgov.model.params import (
    REGISTRY,  # noqa: E402
    UNCALIBRATED,
)
from ruralgov.model.schema import InputError  # noqa: E402

from .conftest import free_port, rendering_fonts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: how long a page may take to show what a test waits for (ms): a step of the default county
#: (20,000 villagers) can take tens of seconds on a loaded shared machine; a wait ends as soon
#: as the page is ready, so a long one costs nothing when all is well
UI_WAIT = 180_000
ARTEFACTS = ROOT / "test-artifacts" / "dashboard"


# ------------------------------------------------------------------ without a browser
def test_the_model_never_imports_the_dashboard():
    code = ("import sys, ruralgov, ruralgov.model.county, ruralgov.study.runner, "
            "ruralgov.study.sweep; "
            "bad = [m for m in sys.modules if m.startswith(('ruralgov.app.dashboard', 'solara'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_controls_are_levers_of_the_registry_with_both_languages():
    names = [n for _, items in CONTROL_GROUPS for n, _, _ in items]
    assert len(names) == len(set(names)) >= 12
    for n in names:
        assert n in REGISTRY
        assert control_label(n, "en") != control_label(n, "zh")
    for key in ("coordination", "responsiveness", "self_interest", "discretion",
                "norm_compatibility", "campaign", "enforcement",
                # the second generation's instruments, for "what if we used X?"
                "one_window", "joint_enforcement", "grid_management", "bureaus",
                "priority_handling", "evaluation_stability", "fiscal_dependence",
                "key_person_management", "social_credit", "compact_rate", "elections"):
        assert key in names


def test_comparison_runs_both_settings_on_the_same_seed():
    same = S.Comparison(seed=5, a={"scenario": "baseline"}, b={"scenario": "baseline"})
    differ = S.Comparison(seed=5, a={"scenario": "baseline"},
                          b={"scenario": "baseline", "overrides": {"coordination": 0.0}})
    for _ in range(8):
        same.step()
        differ.step()
    pd.testing.assert_frame_equal(same.a.series(), same.b.series())
    assert not differ.a.series().equals(differ.b.series())
    pd.testing.assert_frame_equal(same.a.series(), differ.a.series())


def test_network_layout_is_fixed_sampled_and_draws_real_ties():
    m = S.build("baseline", 1, {"n_villagers": 5000})
    a, b = S.network_layout(m), S.network_layout(m)
    assert np.array_equal(a.xy, b.xy) and a.sampled and len(a.nodes) <= S.MAX_NODES
    assert 0 < len(a.edges) <= S.MAX_EDGES
    i, j = a.nodes[a.edges[:, 0]], a.nodes[a.edges[:, 1]]
    assert np.all(m.population.adjacency[i, j] != 0)  # every drawn tie exists
    # a village's villagers sit together: distance to their village's centre is small
    v = m.structure.village[a.nodes]
    centre = np.array([a.xy[v == k].mean(axis=0) for k in range(m.n_villages)])
    spread = np.linalg.norm(a.xy - centre[v], axis=1).max()
    gap = min(np.linalg.norm(centre[p] - centre[q]) for p in range(m.n_villages)
              for q in range(p))
    assert spread < gap


def test_network_state_events_and_csv_describe_the_run():
    m = S.build("baseline", 2, {"coordination": 0.0, "responsiveness": 0.05})
    for _ in range(30):
        m.step()
    state = S.network_state(m, np.arange(m.n_villagers))
    assert set(np.unique(state)) <= {0, 1, 2, 3}
    assert np.array_equal(state == 3, m.villagers.protesting)
    log = S.events(m)
    assert log and all(e.startswith("[30] ") for e in log)
    backlog = m.detail("townships", latest=True).backlog
    assert sum("petitions unanswered" in e for e in log) == int((backlog >= 5).sum())
    csv = pd.read_csv(__import__("io").StringIO(S.series_csv(m)))
    assert (csv.scenario == "baseline").all() and (csv.seed == 2).all() and len(csv) == 30
    assert any("条" in e or "乡镇" in e for e in S.events(m, "zh"))


def test_the_story_on_screen_agrees_with_ruralgov_stories_on_the_same_seed():
    """Each claim of the fragmented story, judged on screen beside the baseline, has exactly
    the difference `ruralgov stories` finds on that seed; alone, a claim that compares with
    the baseline asks for it, and a claim waits for its window."""
    from ruralgov.study.stories import check_story

    seed = 3
    alone = S.build("fragmented", seed)
    c = S.Comparison(seed=seed, a={"scenario": "fragmented"}, b={"scenario": "baseline"})
    states = []
    for step in range(1, 97):
        c.step()
        if step in (1, 40):
            states.append([x.state for x in S.watch_claims({"A": c.a, "B": c.b})])
    alone.step()
    assert [x.state for x in S.watch_claims({"": alone})] == [
        "compare", "compare", "waiting", "compare"]
    # step 1: inside the first two windows, before the others; step 40: the first two done,
    # inside the protest window (37-48), before the legitimacy window (85-96)
    assert states[0] == ["so_far", "so_far", "waiting", "waiting"]
    assert states[1][:2] != ["so_far", "so_far"] and states[1][2:] == ["waiting", "so_far"]
    on_screen = S.watch_claims({"A": c.a, "B": c.b})
    checked = check_story("fragmented", seeds=(seed,), agree=1)
    assert len(on_screen) == len(checked) == 4
    for mine, ref in zip(on_screen, checked):
        assert mine.difference == pytest.approx(ref.difference, rel=1e-12)
        assert mine.state == ("holds" if ref.holds else "fails")
        assert mine.side == "A" and not mine.changed
    # B is the baseline (no story of its own); a changed B is no longer the compared scenario
    changed = S.Comparison(seed=seed, a={"scenario": "fragmented"},
                           b={"scenario": "baseline", "overrides": {"coordination": 1.0}})
    changed.step()
    assert [x.state for x in S.watch_claims({"A": changed.a, "B": changed.b})][:2] == [
        "compare", "compare"]
    assert "基准县" in S.watch_claims({"": alone}, "zh")[0].status("zh")


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml")
                                        if "watch:" in p.read_text(encoding="utf-8")))
def test_every_story_has_a_panel_for_each_measure_it_says_to_watch(name):
    m = S.build(name, 1, {"n_villagers": 400})
    for _ in range(3):
        m.step()
    claims = S.watch_claims({"": m})
    view = V.WatchView(claims, [""], "en").update({"": m})
    measures = list(dict.fromkeys(c.claim.measure for c in claims))
    assert view.measures == measures and len(measures) >= 1
    for ax, measure in zip(view.axes, measures):
        line = view.lines[("", measure)]
        assert np.array_equal(line.get_ydata(), m.series()[measure].to_numpy(dtype=float),
                              equal_nan=True)
        y, (lo, hi) = line.get_ydata(), ax.get_ylim()
        if np.isfinite(y).any():  # (the campaign's measure: none before the campaign)
            assert lo <= np.nanmin(y) and hi >= np.nanmax(y)
        # every claim's window shaded on its measure's panel, and within the axis
        windows = [c.claim.steps for c in claims if c.claim.measure == measure]
        assert len(ax.patches) >= len(windows)
        assert ax.get_xlim()[1] >= max(b for _, b in windows)
    png = V.figure_png(V.watch_figure({"": m}, "en"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


#: Colour-vision deficiency at full severity, on linear RGB (Machado, Oliveira & Fernandes
#: 2009, "A physiologically-based model for simulation of color vision deficiency", IEEE
#: TVCG 15(6), the severity-1.0 matrices of their table).
CVD = {"protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                      [-0.003882, -0.048116, 1.051998]],
       "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                        [-0.011820, 0.042940, 0.968881]],
       "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                      [0.004733, 0.691367, 0.303900]]}


def _as_seen(colour, deficiency: str) -> np.ndarray:
    """A colour as a viewer with ``deficiency`` sees it (sRGB, 0-1)."""
    from matplotlib.colors import to_rgb

    c = np.asarray(to_rgb(colour))
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    seen = np.clip(np.asarray(CVD[deficiency]) @ linear, 0, 1)
    return np.where(seen <= 0.0031308, 12.92 * seen, 1.055 * seen ** (1 / 2.4) - 0.055)


def test_the_simulation_of_colour_blindness_confuses_red_and_green():
    """(The check below can fail: the classic red/green pair is confused.)"""
    red, green = "#d62728", "#2ca02c"
    assert np.linalg.norm(_as_seen(red, "deuteranopia") - _as_seen(green, "deuteranopia")) < 0.2


def test_the_figures_take_any_two_side_names():
    """A notebook's names for the two sides: drawn as A and B."""
    m = S.build("fragmented", 1, {"n_villagers": 400})
    m.step()
    runs = {"before": m, "after": m}
    for fig in (V.series_figure(runs), V.legitimacy_figure(runs), V.watch_figure(runs)):
        assert fig.axes
    assert V.side_style("after", list(runs)) == V.SIDES["B"]


def test_compare_mode_tells_the_sides_apart_in_colour_and_style_for_colour_blind_eyes():
    m = S.build("fragmented", 1, {"n_villagers": 400})
    m.step()
    both = {"A": m, "B": m}
    series = V.SeriesView(["A", "B"], "en").update(both)
    watch = V.WatchView(S.watch_claims(both), ["A", "B"], "en").update(both)
    legit = V.LegitimacyView(["A", "B"], "en").update(both)
    pairs = [(series.lines[("A", c)], series.lines[("B", c)])
             for _, cols, _ in V._PANELS for c, _, _ in cols]
    pairs += [(watch.lines[("A", x)], watch.lines[("B", x)]) for x in watch.measures]
    pairs.append((legit.bars["A"], legit.bars["B"]))
    for a, b in pairs:
        assert a.get_linestyle() != b.get_linestyle()
        for deficiency in CVD:
            seen = [_as_seen(x.get_edgecolor() if hasattr(x, "get_edgecolor")
                             and not hasattr(x, "get_color") else x.get_color(), deficiency)
                    for x in (a, b)]
            assert np.linalg.norm(seen[0] - seen[1]) > 0.4, (deficiency, a, b)


def _controls(m) -> dict:
    """The page's controls as the running county has them (app.CONTROLS)."""
    names = [n for _, items in CONTROL_GROUPS for n, _, _ in items] + ["n_villagers"]
    return {k: m.p[k] for k in names}


def test_an_intervention_from_the_page_is_marked_logged_and_not_repeated():
    m = S.build("baseline", 3, {"n_villagers": 600})
    for _ in range(4):
        m.step()
    values = {**_controls(m), "responsiveness": 0.95, "enforcement": 0.9}
    now, later = S.pending(m, values)
    assert now == {"responsiveness": 0.95} and later == {"enforcement": 0.9}
    assert S.intervene(m, values) == {"responsiveness": 0.95}
    assert S.pending(m, values)[0] == {}  # in force from the next step: not offered twice
    assert S.intervene(m, values) == {} and len(m.interventions) == 1
    m.step()
    assert m.p["responsiveness"] == 0.95 and m.p["enforcement"] != 0.9
    assert any("Intervention: Township responsiveness" in e and "0.95" in e
               for e in S.events(m))
    assert any(e.startswith("[5] 干预：乡镇对信访的回应性 = 0.95") for e in S.events(m, "zh"))
    m.intervene({"mech_contention": False})
    m.step()  # a switch reads as 是/否 on the Chinese page, on/off on the English one
    assert any(e.endswith("mech_contention = 否") for e in S.events(m, "zh"))
    assert any(e.endswith("mech_contention = off") for e in S.events(m))
    m.step()
    csv = pd.read_csv(__import__("io").StringIO(S.series_csv(m)))
    assert csv.intervention.fillna("").tolist() == ["", "", "", "",
                                                    "responsiveness=0.95",
                                                    "mech_contention=False", ""]
    fig = V.series_figure({"": m})
    for ax in fig.axes:  # a labelled line on every time series, between steps 4 and 5
        assert any(list(line.get_xdata()) == [4.5, 4.5] for line in ax.lines)
        assert any(txt.get_text().strip() == "intervention 1" for txt in ax.texts)


def test_a_dashboard_run_downloads_as_a_scenario_that_ruralgov_run_reproduces(tmp_path):
    from ruralgov.app.cli import main
    from ruralgov.io.scenario import load_scenario
    from ruralgov.study.runner import run_scenario

    m = S.build("fragmented", 7, {"n_villagers": 800, "coordination": 0.4})
    for step in range(12):
        if step == 5:
            S.intervene(m, {**_controls(m), "one_window": 1.0, "suppression": 0.7})
        if step == 9:
            S.intervene(m, {**_controls(m), "one_window": 0.0})
        m.step()
    f = tmp_path / "run.yaml"
    f.write_text(S.scenario_yaml(m), encoding="utf-8")
    sc = load_scenario(f)
    assert sc.seed == 7 and sc.steps == 12 and len(sc.interventions) == 2
    assert sc.title_zh.endswith("（仪表盘运行，随机种子 7）")
    pd.testing.assert_frame_equal(run_scenario(sc).series, m.series())  # value for value
    assert main(["run", str(f), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o" / "series.parquet"),
                                  m.series(), check_dtype=False)
    # a reset replays it: the run built again from its settings is the same run
    again = S.Run(**m.settings())
    for _ in range(12):
        again.step()
    pd.testing.assert_frame_equal(again.series(), m.series())


def test_a_downloaded_run_loaded_back_keeps_its_interventions_and_its_name(tmp_path):
    """Loading a run downloaded from the page (``ruralgov dashboard that-file.yaml``) replays
    its interventions; a reset does not add them twice; its downloads are named by the
    scenario, not by the file (no doubled prefix); a new intervention joins the file's."""
    m = S.build("fragmented", 7, {"n_villagers": 800})
    for step in range(10):
        if step == 4:
            S.intervene(m, {**_controls(m), "one_window": 1.0})
        m.step()
    f = tmp_path / (S.download_stem({"": m}) + ".yaml")
    assert f.name == "ruralgov-fragmented-seed7-step10.yaml"
    f.write_text(S.scenario_yaml(m), encoding="utf-8")
    from ruralgov.app.dashboard.app import scenario_settings

    loaded = S.Run(scenario=str(f), seed=7)
    # the page's levers start where the file takes the county: nothing to undo, before and
    # after its intervention
    assert S.pending(loaded, scenario_settings(str(f))) == ({}, {})
    for _ in range(10):
        loaded.step()
    assert S.pending(loaded, scenario_settings(str(f))) == ({}, {})
    pd.testing.assert_frame_equal(loaded.series(), m.series())  # the intervention replayed
    assert S.download_stem({"": loaded}) == "ruralgov-fragmented-seed7-step10"
    assert S.download_stem({"A": loaded, "B": m}) == "ruralgov-fragmented-seed7-step10"
    assert loaded.settings()["interventions"] == []  # the file brings its own
    again = S.Run(**loaded.settings())
    for _ in range(10):
        again.step()
    pd.testing.assert_frame_equal(again.series(), m.series())  # a reset: once, not twice
    S.intervene(loaded, {**_controls(loaded), "suppression": 0.6})
    assert [iv["set"] for iv in loaded.settings()["interventions"]] == [{"suppression": 0.6}]
    assert S.scenario_yaml(loaded).count("set:") == 2
    assert S.scenario_yaml(loaded).count("(dashboard run, seed 7)") == 1  # not doubled


def test_a_large_county_keeps_its_size_on_the_slider():
    from ruralgov.app.dashboard.app import VILLAGERS_MAX, int_slider

    for size in (1_000, VILLAGERS_MAX, 50_000, 31_250):
        lo, hi, step = int_slider("n_villagers", size)
        assert lo <= size <= hi and (size - lo) % step == 0, (size, lo, hi, step)
    assert int_slider("n_villagers", 1_000)[1] == VILLAGERS_MAX
    assert int_slider("n_villagers", 50_000)[1] == 50_000 == S.MAX_VILLAGERS
    for name in ("campaign_start", "campaign_duration", "n_departments"):
        lo, hi, _ = int_slider(name, REGISTRY[name].default)
        assert lo <= REGISTRY[name].default <= hi


def test_a_campaign_starts_and_ends_live_and_replays(tmp_path):
    """In a county built with a campaign rule the campaign starts and ends at any step, as
    interventions on its start and length: marked in the series, replayed by a reset and by
    `ruralgov run` on the downloaded file; a county without one is left alone."""
    from ruralgov.io.scenario import load_scenario
    from ruralgov.study.runner import run_scenario

    plain = S.build("baseline", 2, {"n_villagers": 600})
    assert S.campaign_running(plain) is None and S.campaign_now(plain, True) == {}
    m = S.build("demolition_campaign", 2, {"n_villagers": 600})
    plan = {3: True, 7: False, 9: True, 10: False, 13: True}  # step before: start / end
    for step in range(16):
        if step in plan:
            assert S.campaign_now(m, plan[step])
            assert S.campaign_running(m) is plan[step]
            assert S.campaign_now(m, plan[step]) == {}  # already as asked
        m.step()
    active = m.series()["campaign_active"].astype(bool).tolist()
    # on from step 4 to 7, 10, and from 14 (the scenario's own start, 50, never came)
    assert [s for s, on in enumerate(active, start=1) if on] == [4, 5, 6, 7, 10, 14, 15, 16]
    again = S.Run(**m.settings())
    for _ in range(16):
        again.step()
    pd.testing.assert_frame_equal(again.series(), m.series())
    f = tmp_path / "campaign.yaml"
    f.write_text(S.scenario_yaml(m), encoding="utf-8")
    pd.testing.assert_frame_equal(run_scenario(load_scenario(f)).series, m.series())
    # called off before it began: never
    c = S.build("demolition_campaign", 2, {"n_villagers": 600})
    c.step()
    S.campaign_now(c, True)
    assert S.campaign_now(c, False) == {"campaign_start": S.NEVER}
    c.step()
    assert not c.series()["campaign_active"].astype(bool).any()


@pytest.mark.parametrize("steps_before", [0, 3])
def test_a_download_with_an_intervention_for_the_next_step_is_a_runnable_scenario(
        tmp_path, steps_before):
    from ruralgov.io.scenario import load_scenario
    from ruralgov.study.runner import run_scenario

    m = S.build("baseline", 4, {"n_villagers": 500})
    for _ in range(steps_before):
        m.step()
    S.intervene(m, {**_controls(m), "responsiveness": 0.9})  # from the next step, not yet run
    f = tmp_path / "run.yaml"
    f.write_text(S.scenario_yaml(m), encoding="utf-8")
    sc = load_scenario(f)  # was refused: the intervention came after the file's last step
    assert sc.steps == steps_before + 1 and sc.interventions[0].step == steps_before + 1
    m.step()
    pd.testing.assert_frame_equal(run_scenario(sc).series, m.series())


def test_intervening_while_the_page_plays_is_replayed_exactly():
    """The play loop steps in a worker thread while clicks intervene from the server's
    thread: each intervention lands between two steps and is recorded at the step it takes
    effect, so a reset (the run built again from its settings) is the same run."""
    import threading

    m = S.build("baseline", 5, {"n_villagers": 400})
    stop = threading.Event()

    def play():
        while not stop.is_set() and m.steps < 60:
            m.step()

    player = threading.Thread(target=play)
    player.start()
    values = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2, 0.8]
    for k in range(40):
        S.intervene(m, {**_controls(m), "responsiveness": values[k % len(values)]})
    player.join(timeout=120)
    stop.set()
    assert m.steps == 60 and len(m.interventions) >= 2
    assert all(iv.step >= 1 for iv in m.interventions)
    again = S.Run(**m.settings())
    for _ in range(60):
        again.step()
    pd.testing.assert_frame_equal(again.series(), m.series())


def test_intervening_in_both_sides_while_a_comparison_plays_lands_on_one_step():
    import threading

    c = S.Comparison(seed=2, a={"overrides": {"n_villagers": 300}},
                     b={"overrides": {"n_villagers": 300, "coordination": 0.9}})
    player = threading.Thread(target=lambda: [c.step() for _ in range(80)])
    player.start()
    for k in range(30):
        value = 0.2 + 0.6 * (k % 2)
        S.intervene_sides(c, [{**_controls(c.a), "responsiveness": value},
                              {**_controls(c.b), "responsiveness": value}])
    player.join(timeout=120)
    steps_a = [iv.step for iv in c.a.interventions]
    assert len(steps_a) >= 2 and steps_a == [iv.step for iv in c.b.interventions]


def test_the_network_colour_agrees_with_the_compliance_line():
    # a county where most rules are kept (the county before calibration: compliance 0.7)
    m = S.build("baseline", 1, {**UNCALIBRATED, "n_villagers": 1200})
    for _ in range(6):
        m.step()
    nodes = np.arange(m.n_villagers)
    share = S.kept_share(m, nodes)
    live = m.rules.live.sum(axis=0)
    assert np.isclose(np.average(share, weights=live), m.series().compliance.iloc[-1])
    # "evades a rule" would paint most villagers grey while most rules are kept
    assert (S.network_state(m, nodes) >= 1).mean() > 0.5 > 1 - share.mean()


def test_downloads_name_the_run_and_put_both_sides_in_one_csv():
    from ruralgov.app.dashboard.labels import SERIES_ZH
    from ruralgov.model.observe import SERIES

    assert {r.name for r in SERIES} <= set(SERIES_ZH)  # every column has a Chinese name
    cmp = S.Comparison(seed=4, a={"scenario": "baseline", "overrides": {"n_villagers": 500}},
                       b={"scenario": "fragmented", "overrides": {"n_villagers": 500}})
    for _ in range(3):
        cmp.step()
    models = {"A": cmp.a, "B": cmp.b}
    assert S.download_stem(models) == "ruralgov-baseline-vs-fragmented-seed4-step3"
    both = pd.read_csv(__import__("io").StringIO(S.series_csv(models)))
    assert both.side.tolist() == ["A"] * 3 + ["B"] * 3
    assert both.scenario.tolist() == ["baseline"] * 3 + ["fragmented"] * 3
    assert both.seed.tolist() == [4] * 6
    S.intervene(cmp.b, {"coordination": 0.9})
    cmp.step()
    zh = pd.read_csv(__import__("io").StringIO(S.series_csv(models, "zh")))
    assert not [c for c in zh.columns if re.fullmatch(r"[A-Za-z_]+", c)]
    # the cells too: no English word in the Chinese CSV (the scenario by its Chinese title)
    cells = " ".join(map(str, zh.to_numpy().ravel()))
    assert not re.findall(r"[A-Za-z]{3,}", cells.replace("nan", "")), \
        set(re.findall(r"[A-Za-z]{3,}", cells))
    assert set(zh["情景"]) == {"基准县", "条块分割（文件打架）"}
    assert "部门协同程度=0.9" in set(zh["干预"].dropna())
    both = pd.read_csv(__import__("io").StringIO(S.series_csv(models)))
    assert np.array_equal(zh["遵从率"].to_numpy(), both.compliance.to_numpy())
    for table in (S.township_table(cmp.a, "zh"), S.department_table(cmp.a, "zh")):
        assert not [c for c in table.columns if re.search(r"[A-Za-z]{3,}", c)]
    png = V.figure_png(V.network_figure(models, {k: S.network_layout(m)
                                                  for k, m in models.items()}))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def _handout_runs(a: str = "fragmented", b: str = "integrated", **kw):
    """A comparison with interventions on both sides (the handout's hardest case)."""
    cmp = S.Comparison(seed=2, a={"scenario": a, "overrides": {"n_villagers": 600, **kw}},
                       b={"scenario": b, "overrides": {"n_villagers": 600}})
    for step in range(8):
        if step == 4:
            S.intervene(cmp.b, {**_controls(cmp.b), "responsiveness": 0.9})
            S.intervene(cmp.a, {**_controls(cmp.a), "suppression": 0.5, "one_window": 1.0})
        cmp.step()
    models = {"A": cmp.a, "B": cmp.b}
    return models, {k: S.network_layout(m) for k, m in models.items()}


def test_the_session_handout_holds_scenarios_interventions_numbers_and_figures():
    from ruralgov.app.dashboard.handout import KEY_MEASURES, handout_html

    models, layouts = _handout_runs()
    a, b = (m.series().iloc[-1] for m in models.values())
    page = handout_html(models, layouts)
    assert "Fragmented departments" in page and "Integrated" in page
    assert "From step 5: Township responsiveness to petitions (回应性) = 0.9" in page
    assert page.count("data:image/png;base64,") == 3
    for c in KEY_MEASURES:  # A, B and A - B now
        assert f"<td>{a[c]:.3g}</td><td>{b[c]:.3g}</td><td>{a[c] - b[c]:.3g}</td>" in page, c
    # questions for the room, from the story's claims as they stood on this run
    questions = re.search(r"<ol>(.*?)</ol>", page, re.S)[1]
    assert questions.count("<li>") >= 4
    assert "Mean exposure to contradictory demands" in questions
    # the reproduction files, after a page break
    appendix = page[page.index('<section class="appendix">'):]
    assert appendix.count("ruralgov run &lt;this file&gt;") == 2
    assert "ruralgov run &lt;this file&gt;" not in page[:page.index("<section")]
    one = handout_html({"": models["A"]}, {"": layouts["A"]})  # one county: step 1 and now
    first = models["A"].series().iloc[0]
    assert f"<td>{first['compliance']:.3g}</td><td>{a['compliance']:.3g}</td>" in one
    zh = handout_html(models, layouts, "zh")
    text = re.sub(r"<pre>.*?</pre>|<style>.*?</style>|<[^>]+>", " ", zh, flags=re.S)
    assert set(re.findall(r"[A-Za-z]{4,}", text)) <= {"ruralgov"}, \
        set(re.findall(r"[A-Za-z]{4,}", text))
    assert "自第 5 期起" in zh and "课堂讲义" in zh and "讨论题" in zh
    assert 'font-family:"RuralGov Sans SC";src:url("data:font/woff2;base64,' in zh
    # every picture's axes say what they show
    legit = V.legitimacy_figure(models)
    assert legit.axes[0].get_xlabel() and legit.axes[0].get_ylabel()


def test_impossible_settings_are_one_clear_message():
    with pytest.raises(InputError, match="coordination"):
        S.build("baseline", 1, {"coordination": 2.0})
    with pytest.raises(InputError, match="up to"):
        S.build("baseline", 1, {"n_villagers": S.MAX_VILLAGERS + 1})
    with pytest.raises(InputError):
        S.build("baseline", 1, {"n_villagers": 10})  # fewer villagers than villages


def test_dashboard_command_refuses_a_bad_scenario_without_a_traceback():
    exe = Path(sys.executable).with_name("ruralgov")
    res = subprocess.run([str(exe), "dashboard", "no_such_scenario"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 2 and "no such scenario" in res.stderr
    assert "Traceback" not in res.stderr


# ------------------------------------------------------------------ in a real browser

def _serve(*args):
    port = free_port()
    exe = Path(sys.executable).with_name("ruralgov")
    proc = subprocess.Popen([str(exe), "dashboard", *args, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read()) from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the dashboard did not start in 60 s")


@pytest.fixture(scope="module")
def server():
    proc, url = _serve("baseline")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def _page(browser, url, outside):
    page = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True,
                            locale="en-US")  # (the page follows the browser's language)
    page.on("console", lambda m: outside.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("response", lambda r: outside.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)

    def record(request):
        if not request.url.startswith(("data:", "blob:")) and \
                urlparse(request.url).hostname not in ("127.0.0.1", "localhost"):
            outside.append(request.url)

    page.on("request", record)
    page.goto(url, wait_until="networkidle", timeout=90_000)
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=90_000)
    return page


def _shot(page, name):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def _open_downloads(page):
    """The downloads are drawn only while their section is open."""
    button = page.get_by_role("button", name=re.compile(r"Downloads:|下载："))
    if "▸" in button.inner_text():
        button.click()


def _download(page, text, path):
    _open_downloads(page)
    with page.expect_download(timeout=UI_WAIT) as dl:
        page.get_by_text(text).click()
    dl.value.save_as(path)
    return path


def _images(page) -> list[str]:
    return page.eval_on_selector_all("img", "els => els.map(e => e.src)")


def test_page_scenario_control_step_play_offline(browser, server):
    outside: list[str] = []
    page = _page(browser, server, outside)
    page.get_by_text("Baseline county").first.wait_for()
    _shot(page, "1-single-baseline")
    # pick a scenario, move a control, apply: the story and the change are shown
    page.locator(".v-select").filter(has_text="Scenario").first.click()
    # scenarios are listed by title
    page.locator(".v-menu__content .v-list-item").filter(has_text="Fragmented departments").click()
    page.get_by_text("Fragmentation 条块分割").click()
    slider = page.get_by_text("Coordination between departments (部门协同)", exact=True).locator(
        "xpath=following::*[@role='slider'][1]")
    before = slider.get_attribute("aria-valuenow")
    slider.focus()
    page.keyboard.press("End")
    assert slider.get_attribute("aria-valuenow") != before
    # apply beside the levers (as well as under the seed); the play sliders show their values
    applies = page.get_by_role("button", name="Apply and reset")
    assert applies.count() == 2
    page.get_by_text("= 200 ms between steps").wait_for(timeout=UI_WAIT)
    page.get_by_text("= a picture every 1 step(s)").wait_for(timeout=UI_WAIT)
    applies.last.click()
    page.get_by_text("Fragmented departments").first.wait_for(timeout=UI_WAIT)
    page.get_by_text("Coordination between departments (部门协同) = 1").wait_for(timeout=UI_WAIT)
    page.get_by_text("= 1.00  (0–1)").first.wait_for(timeout=UI_WAIT)  # value and range shown
    _shot(page, "2-fragmented-coordinated")
    # step: the counter and the pictures change
    pics = _images(page)
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_text("Step 1 · seed").wait_for(timeout=UI_WAIT)
    page.wait_for_function("n => document.querySelectorAll('img').length >= n", arg=len(pics))
    assert _images(page) != pics
    # play, then pause: it moved on by itself
    page.get_by_role("button", name="▶").click()
    page.get_by_text(re.compile(r"Step ([3-9]|\d\d+) · seed")).wait_for(timeout=90_000)
    page.get_by_role("button", name="❚❚").click()
    _shot(page, "3-played")
    # a new seed starts another run from step 0
    page.get_by_role("button", name="New seed").click()
    page.get_by_text("Step 0 · seed").wait_for(timeout=UI_WAIT)
    assert page.get_by_text("Step 0 · seed 1 ·").count() == 0
    # bad input from the page: one message on the page, and the server carries on
    box = page.get_by_label("Seed (same seed, same run)")
    box.fill("-5")
    box.press("Enter")
    page.get_by_role("button", name="Apply and reset").first.click()
    page.get_by_text("Could not apply these settings").wait_for(timeout=UI_WAIT)
    _shot(page, "3b-bad-seed")
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_text("Step 1 · seed").wait_for(timeout=UI_WAIT)  # the last good run steps on
    assert outside == [], f"requests left the machine, failed or logged errors: {outside}"
    page.close()


def test_compare_mode_and_download(browser, server, tmp_path):
    outside: list[str] = []
    page = _page(browser, server, outside)
    page.get_by_role("button", name="Compare").click()
    page.get_by_text("B Baseline county").wait_for(timeout=UI_WAIT)
    assert page.get_by_text("B Baseline county").count() == 1
    _open_downloads(page)
    page.get_by_text("Download as a scenario file (YAML) B").wait_for(timeout=UI_WAIT)
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_text("Step 1 · seed").wait_for(timeout=UI_WAIT)
    _shot(page, "4-compare")
    # both sides in one CSV with a side column, named by scenario, seed and step
    with page.expect_download(timeout=UI_WAIT) as dl:
        page.get_by_text("Download data (CSV)").click()
    assert dl.value.suggested_filename == "ruralgov-baseline-seed1-step1.csv"
    path = tmp_path / "both.csv"
    dl.value.save_as(path)
    csv = pd.read_csv(path)
    assert {"side", "scenario", "seed", "compliance", "protesters"} <= set(csv.columns)
    assert csv.side.tolist() == ["A", "B"] and (csv.scenario == "baseline").all()
    with page.expect_download(timeout=UI_WAIT) as dl:
        page.get_by_text("Download network (PNG)").click()
    assert dl.value.suggested_filename == "ruralgov-baseline-seed1-step1-network.png"
    png = tmp_path / "b.png"
    dl.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert outside == [], f"requests left the machine, failed or logged errors: {outside}"
    page.close()


def test_the_story_says_what_to_watch_and_puts_its_comparison_beside_it(browser, server):
    outside: list[str] = []
    page = _page(browser, server, outside)
    assert page.get_by_text("What the story says to watch").count() == 0  # baseline: no story
    page.locator(".v-select").filter(has_text="Scenario").first.click()
    page.locator(".v-menu__content .v-list-item").filter(has_text="Fragmented departments").click()
    page.get_by_role("button", name="Apply and reset").first.click()
    page.get_by_text("What the story says to watch").wait_for(timeout=UI_WAIT)
    claims = page.locator("ul.rg-watch li")
    assert claims.count() == 4
    assert page.locator(".rg-compare").count() == 3 and page.locator(".rg-waiting").count() == 1
    page.get_by_role("button", name=re.compile("Compare with “Baseline county")).click()
    page.get_by_text("B Baseline county").wait_for(timeout=UI_WAIT)
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_text("Step 1 · seed").wait_for(timeout=UI_WAIT)
    page.locator(".rg-so_far").first.wait_for(timeout=UI_WAIT)
    assert page.locator(".rg-compare").count() == 0
    # its panel: the story's measures drawn, one more picture than the baseline's page
    assert len(_images(page)) == 4
    _shot(page, "4b-watch")
    assert outside == [], f"requests left the machine, failed or logged errors: {outside}"
    page.close()


def test_a_campaign_starts_and_ends_from_the_page(browser, server):
    from playwright.sync_api import expect

    outside: list[str] = []
    page = _page(browser, server, outside)
    page.get_by_text("tick the campaign (Campaign group)").wait_for(timeout=UI_WAIT)
    page.locator(".v-select").filter(has_text="Scenario").first.click()
    page.locator(".v-menu__content .v-list-item").filter(has_text="demolition campaign").click()
    page.get_by_role("button", name="Apply and reset").first.click()
    page.get_by_text("A land-acquisition and demolition campaign").first.wait_for(timeout=UI_WAIT)
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_text("Step 1 · seed").wait_for(timeout=UI_WAIT)
    page.get_by_role("button", name="Start the campaign now (from step 2)").click()
    expect(page.get_by_role("button", name="End the campaign now (after step 1)")
           ).to_be_enabled(timeout=UI_WAIT)
    # the page's levers follow the running county: nothing left to "change now"
    page.get_by_text("Move a lever above, then change it here.").wait_for(timeout=UI_WAIT)
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_text("Step 2 · seed").wait_for(timeout=UI_WAIT)
    page.get_by_role("button", name="End the campaign now (after step 2)").click()
    expect(page.get_by_role("button", name="End the campaign now (after step 2)")
           ).to_be_disabled(timeout=UI_WAIT)
    expect(page.get_by_role("button", name="Start the campaign now (from step 3)")
           ).to_be_enabled()
    assert outside == [], f"requests left the machine, failed or logged errors: {outside}"
    page.close()


def _pdf_pages(page) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", page.pdf(format="A4",
                                                             prefer_css_page_size=True)))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_handout_prints_on_one_a4_page_with_the_reproduction_file_after_it(browser,
                                                                               tmp_path, lang):
    """Printed by Chromium: the handout of a comparison of the two longest stories, with
    interventions and a changed lever on both sides, is one A4 page and its appendix."""
    from ruralgov.app.dashboard.handout import handout_html
    from ruralgov.io.scenario import list_scenarios

    a, b = sorted(list_scenarios(), key=lambda sc: -len(sc.text(lang)[1]))[:2]
    models, layouts = _handout_runs(a.name, b.name, coordination=0.3)
    f = tmp_path / "handout.html"
    f.write_text(handout_html(models, layouts, lang), encoding="utf-8")
    page = browser.new_page()
    page.goto(f.as_uri())
    whole = _pdf_pages(page)
    page.evaluate("() => document.querySelector('section.appendix').remove()")
    assert _pdf_pages(page) == 1  # the handout itself: one page
    assert whole >= 2  # the reproduction files: on a page of their own
    page.close()


def _smallest_text_pt(view) -> float:
    """The smallest type (points) of any text a view's figure draws, tick labels included."""
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    def drawn(artist):  # what is drawn: visible, and not on an axis switched off
        if not artist.get_visible() or (isinstance(artist, Axis) and not artist.axes.axison):
            return
        if isinstance(artist, Text) and artist.get_text().strip():
            yield artist
        for child in artist.get_children():
            yield from drawn(child)

    view.figure.canvas.draw()
    return min(x.get_fontsize() for x in drawn(view.figure))


def _projected(page) -> list[dict]:
    return page.evaluate("() => [...document.querySelectorAll('img')].map(i => ({natural: "
                         "i.naturalWidth, shown: i.clientWidth, height: i.clientHeight, "
                         "top: i.getBoundingClientRect().top + window.scrollY}))")


def _check_back_row(page, views: list) -> None:
    """Each picture's smallest text, as the 1,280 x 720 screen shows it, is 18 px or more;
    the series' first row of charts on the first screen."""
    shown = _projected(page)
    assert len(shown) == len(views), shown
    for img, view in zip(shown, views):
        width = round(view.figure.get_figwidth() * V.PROJECTOR_DPI)
        assert img["natural"] == width, (img, type(view).__name__)
        px = _smallest_text_pt(view) * V.PROJECTOR_DPI / 72 * img["shown"] / img["natural"]
        assert px >= 18, f"{type(view).__name__}: smallest text {px:.1f} px on the screen"
    assert shown[0]["top"] + 0.5 * shown[0]["height"] <= 720, shown[0]


def test_projector_mode_reads_from_the_back_row_and_the_handout(browser, server, tmp_path):
    outside: list[str] = []
    page = _page(browser, server, outside)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_text("Step 1 · seed").wait_for(timeout=UI_WAIT)
    assert page.evaluate("() => document.querySelector('img').naturalWidth") < 700
    page.get_by_text("Projector mode").click()
    page.locator(".rg-big").wait_for(timeout=UI_WAIT)  # large type on the page too
    page.wait_for_function("() => document.querySelector('img').naturalWidth >= 1000",
                           timeout=UI_WAIT)
    # the sidebar closes; Step is in the top bar; the story folds away once the run moves
    top = page.locator("header").get_by_role("button", name="Step", exact=True)
    top.click()
    page.get_by_text("Step 2 · seed").wait_for(timeout=UI_WAIT)
    page.wait_for_timeout(500)
    m = S.build("baseline", 1)
    for _ in range(2):
        m.step()
    _check_back_row(page, [V.SeriesView([""], "en", True), V.NetworkView(
        {"": m}, {"": S.network_layout(m)}, "en", True), V.LegitimacyView([""], "en", True)])
    _shot(page, "7-projector")
    # compare mode (from the sidebar, opened by its menu button): the same in two colours
    page.locator("header button").first.click()
    page.get_by_role("button", name="Compare").click()
    page.get_by_text("B Baseline county").wait_for(timeout=UI_WAIT)
    page.locator("header button").first.click()  # the sidebar closed again
    page.wait_for_timeout(500)
    top.click()
    page.get_by_text("Step 1 · seed").wait_for(timeout=UI_WAIT)
    page.wait_for_timeout(500)
    both = {"A": m, "B": m}
    _check_back_row(page, [V.SeriesView(["A", "B"], "en", True), V.NetworkView(
        both, {k: S.network_layout(m) for k in both}, "en", True),
        V.LegitimacyView(["A", "B"], "en", True)])
    _shot(page, "7b-projector-compare")
    _open_downloads(page)
    with page.expect_download(timeout=UI_WAIT) as dl:
        page.get_by_text("Download the session handout (HTML)").click()
    assert dl.value.suggested_filename == "ruralgov-baseline-seed1-step1-handout.html"
    dl.value.save_as(tmp_path / "handout.html")
    handout = (tmp_path / "handout.html").read_text(encoding="utf-8")
    assert "Baseline county" in handout and handout.count("data:image/png;base64,") == 3
    assert outside == [], f"requests left the machine, failed or logged errors: {outside}"
    page.close()


def test_intervention_mid_run_is_marked_replayed_and_reproduced_by_the_cli(browser, server,
                                                                           tmp_path):
    """A trainer steps, moves a lever, changes it now (no reset), steps on; the event log says
    so, Reset replays the run with the change, and the downloaded scenario file reproduces
    the page's data value for value with `ruralgov run`."""
    from ruralgov.study.runner import run_scenario

    outside: list[str] = []
    page = _page(browser, server, outside)
    step = page.get_by_role("button", name="Step", exact=True)
    for k in (1, 2, 3):
        step.click()
        page.get_by_text(f"Step {k} · seed").wait_for(timeout=UI_WAIT)
    change = page.get_by_role("button", name="Change now (from step 4)")
    assert change.is_disabled()  # nothing moved yet
    page.get_by_text("Townships 乡镇政府").click()
    slider = page.get_by_text("Township responsiveness to petitions (回应性)", exact=True).locator(
        "xpath=following::*[@role='slider'][1]")
    slider.focus()
    page.keyboard.press("End")
    change.click()
    page.get_by_text("Move a lever above, then change it here.").wait_for(timeout=UI_WAIT)
    for k in (4, 5, 6):
        step.click()
        page.get_by_text(f"Step {k} · seed").wait_for(timeout=UI_WAIT)
    page.get_by_text(re.compile(r"\[4\] Intervention: Township responsiveness .* = 1")
                     ).wait_for(timeout=UI_WAIT)
    _shot(page, "6-intervention")
    csv = pd.read_csv(_download(page, "Download data (CSV)", tmp_path / "page.csv"))
    assert csv.intervention.fillna("").tolist()[3] == "responsiveness=1.0"
    yml = _download(page, "Download as a scenario file (YAML)", tmp_path / "run.yaml")
    series = run_scenario(yml).series
    np.testing.assert_array_equal(series.compliance.to_numpy(), csv.compliance.to_numpy())
    for col in ("petitions_individual", "protesters", "legitimacy_mean"):
        np.testing.assert_allclose(series[col].to_numpy(), csv[col].to_numpy(), rtol=1e-12)
    # Reset replays the run, intervention included
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Step 0 · seed").wait_for(timeout=UI_WAIT)
    for k in range(1, 7):
        step.click()
        page.get_by_text(f"Step {k} · seed").wait_for(timeout=UI_WAIT)
    again = pd.read_csv(_download(page, "Download data (CSV)", tmp_path / "again.csv"))
    pd.testing.assert_frame_equal(again, csv)
    assert outside == [], f"requests left the machine, failed or logged errors: {outside}"
    page.close()


#: English a Chinese page may show: file types and the units of the figures' axes.
ALLOWED_ENGLISH = {"CSV", "PNG", "YAML", "HTML",
                   "English"}  # (the language switch names English in English)


def _english_words(page) -> set[str]:
    return set(re.findall(r"[A-Za-z]{4,}", page.inner_text("body"))) - ALLOWED_ENGLISH


def test_the_page_speaks_the_browsers_language_and_switches():
    from ruralgov.app.dashboard.labels import preferred_lang

    assert preferred_lang("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert preferred_lang("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert preferred_lang("") == preferred_lang("fr-FR,fr") == "zh"  # Chinese by default
    assert preferred_lang("en-GB;q=0.5, zh;q=0.9") == "zh"  # by quality, not by place
    assert preferred_lang("fr, en;q=0.3, zh;q=0.2") == "en"


def test_a_chinese_browser_gets_the_chinese_page_and_a_switch(browser, server):
    """The server was started without --lang: a browser asking for Chinese gets the Chinese
    page (an English one the English page, as every other test here), and the switch in the
    top bar changes one page's language both ways."""
    page = browser.new_page(locale="zh-CN", viewport={"width": 1500, "height": 1100})
    page.goto(server, wait_until="networkidle", timeout=90_000)
    page.get_by_role("button", name="下一期", exact=True).first.wait_for(timeout=90_000)
    page.get_by_text("乡村治理模拟").first.wait_for(timeout=UI_WAIT)
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="Step", exact=True).first.wait_for(timeout=UI_WAIT)
    page.get_by_text("Rural governance simulator").first.wait_for(timeout=UI_WAIT)
    assert page.get_by_role("button", name="下一期", exact=True).count() == 0
    page.get_by_role("button", name="中文").click()
    page.get_by_role("button", name="下一期", exact=True).first.wait_for(timeout=UI_WAIT)
    page.close()


def test_the_chinese_page_renders_on_a_machine_without_chinese_fonts(bare_browser):
    """The zh page in a browser that has no Chinese system font: every Chinese text drawn by
    the bundled font (screenshot in test-artifacts/dashboard/5b-no-system-chinese-font.png)."""
    proc, url = _serve("baseline", "--lang", "zh")
    try:
        page = bare_browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url, wait_until="networkidle", timeout=90_000)
        page.get_by_text("一个普通的县：四个乡镇、二十个村").first.wait_for(timeout=UI_WAIT)
        page.get_by_role("button", name="下一期", exact=True).first.click()
        page.get_by_text("第 1 期 · 随机种子").first.wait_for(timeout=UI_WAIT)
        page.wait_for_function("() => document.fonts.check('16px \"RuralGov Sans SC\"', '乡村')",
                               timeout=UI_WAIT)
        for selector in (".v-toolbar__title", ".v-btn__content", ".v-card__title"):
            used = rendering_fonts(page, selector)
            assert "RuralGov Sans SC" in used, (selector, used)
        _shot(page, "5b-no-system-chinese-font")
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # the server drew its Chinese figures without a font warning
    assert "findfont" not in proc.stdout.read()


def test_chinese_labels(browser, tmp_path):
    """Every scenario in zh mode: its Chinese title and story, every control group open, a
    step taken — and no English word of four or more letters anywhere on the page."""
    from ruralgov.io.scenario import list_scenarios

    proc, url = _serve("baseline", "--lang", "zh")
    try:
        outside: list[str] = []
        page = browser.new_page(viewport={"width": 1500, "height": 1100},
                                accept_downloads=True)
        page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname not in
                ("127.0.0.1", "localhost") and not r.url.startswith(("data:", "blob:"))
                else None)
        page.on("console", lambda m: outside.append(m.text) if m.type == "error" else None)
        page.on("response", lambda r: outside.append(r.url) if r.status >= 400 else None)
        page.goto(url, wait_until="networkidle", timeout=90_000)
        page.get_by_text("乡村治理模拟").first.wait_for(timeout=90_000)
        page.get_by_text("一个普通的县：四个乡镇、二十个村").first.wait_for(timeout=UI_WAIT)
        # the Chinese is drawn by the bundled font, served by the dashboard, not by whatever
        # the machine has (Chromium's own account of the fonts that rendered each text)
        page.wait_for_function("() => document.fonts.check('16px \"RuralGov Sans SC\"', '乡村')",
                               timeout=UI_WAIT)
        for selector in (".v-toolbar__title", ".v-btn__content", ".v-card__title"):
            used = rendering_fonts(page, selector)
            assert "RuralGov Sans SC" in used and used <= {"RuralGov Sans SC", "Roboto"}, \
                (selector, used)
        for group in ("制度权威", "条块分割", "乡镇政府", "维稳手段", "非正式制度", "服务与参与",
                      "运动式治理"):
            page.get_by_role("button", name=group).click()
        page.get_by_text("当前 4（范围 1–20）").first.wait_for(timeout=UI_WAIT)  # 发文部门数
        page.get_by_text("部门之间的协同程度").first.wait_for(timeout=UI_WAIT)  # its meaning
        found = {}
        for sc in list_scenarios():
            page.locator(".v-select").first.click()
            page.locator(".v-menu__content .v-list-item").filter(has_text=sc.title_zh).click()
            page.get_by_role("button", name="应用并重置").first.click()
            page.get_by_text(sc.story_zh[:20]).first.wait_for(timeout=UI_WAIT)
            page.get_by_role("button", name="下一期", exact=True).click()
            page.get_by_text("第 1 期 · 随机种子").first.wait_for(timeout=UI_WAIT)
            found[sc.name] = _english_words(page)
        assert not any(found.values()), {k: v for k, v in found.items() if v}
        _shot(page, "5-chinese")
        _open_downloads(page)
        with page.expect_download(timeout=UI_WAIT) as dl:  # Chinese column names by default
            page.get_by_text("下载数据（CSV）").click()
        assert dl.value.suggested_filename.endswith("-种子1-第1期.csv")  # named in Chinese
        dl.value.save_as(tmp_path / "zh.csv")
        assert {"期", "遵从率", "抗议人数", "情景"} <= set(pd.read_csv(tmp_path / "zh.csv").columns)
        page.get_by_role("button", name="对比两种设置（同一种子）").click()
        page.get_by_text("下载为情景文件（YAML） B").wait_for(timeout=UI_WAIT)
        assert not _english_words(page), _english_words(page)
        assert outside == []
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_sigterm_stops_the_dashboard_and_its_server():
    import psutil

    proc, url = _serve("baseline")
    children = _descendants(proc.pid)
    assert children, "the dashboard runs its server as a child process"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, [p.cmdline() for p in alive]
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


def test_sigkill_of_the_dashboard_still_stops_its_server():
    import psutil

    proc, url = _serve("baseline")
    children = _descendants(proc.pid)
    proc.kill()
    proc.wait(timeout=30)
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, [p.cmdline() for p in alive]


def test_the_dashboard_starts_without_warnings(tmp_path):
    port = free_port()
    log = tmp_path / "out.txt"
    exe = Path(sys.executable).with_name("ruralgov")
    with log.open("w") as f:
        proc = subprocess.Popen([str(exe), "dashboard", "--port", str(port)], stdout=f,
                                stderr=subprocess.STDOUT, text=True)
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            time.sleep(2)  # what the server prints once the page is served
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text()
    assert "Warning" not in text and "warn" not in text.lower(), text
