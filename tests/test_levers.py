"""The lever table (ruralgov.study.levers): paired effects with bootstrap intervals, every
instrument covered, the published table current, and the command's edges."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ruralgov.model.params import REGISTRY
from ruralgov.study import levers

DOC = Path(__file__).resolve().parents[1] / "docs" / "levers.md"
SMALL = dict(n_villagers=300, n_townships=2, villages_per_township=2)


def test_every_instrument_lever_is_in_the_table():
    """Each lever-role parameter of the governance instruments (docs/ODD.md §8.2) is moved by
    at least one row."""
    moved = {k for lv in levers.LEVERS for k in lv.settings}
    instruments = {"coordination", "one_window", "joint_enforcement", "grid_management",
                   "bureaus", "responsiveness", "priority_handling", "suppression",
                   "key_person_management", "evaluation_stability", "fiscal_dependence",
                   "social_credit", "service_coverage", "assistance_review",
                   "targeting_accuracy", "participation", "village_compact", "compact_rate",
                   "cooptation", "enforcement", "township_capacity", "county_capacity", "elections"}
    assert instruments <= moved
    for lv in levers.LEVERS:
        for k, value in lv.settings.items():
            assert k in REGISTRY and REGISTRY[k].default != value, (lv.name, k)


def test_a_lever_that_does_nothing_has_a_zero_effect_and_one_that_acts_is_clear():
    noop = levers.Lever("compensation without a campaign", "", {"compensation": 0.5})
    strong = levers.Lever("coordination 0 -> 1", "", {"coordination": 1.0,
                                                       "n_departments": 8})
    t = levers.lever_table([noop, strong], seeds=range(4), steps=12, base=SMALL, workers=1)
    none = t[t["lever"] == noop.name]
    assert (none["effect"] == 0).all() and not none["clear"].any()
    assert (none["low"] == 0).all() and (none["high"] == 0).all()
    acts = t[(t["lever"] == strong.name) & (t["outcome"] == "compliance")].iloc[0]
    assert acts["clear"] and acts["low"] <= acts["effect"] <= acts["high"]
    assert acts["effect"] > 0
    assert (t["low"] <= t["effect"] + 1e-12).all() and (t["effect"] <= t["high"] + 1e-12).all()


def test_pool_and_serial_give_the_same_table():
    lv = [levers.LEVERS[0]]
    a = levers.lever_table(lv, seeds=range(3), steps=6, base=SMALL, workers=1)
    b = levers.lever_table(lv, seeds=range(3), steps=6, base=SMALL, workers=2)
    assert a.equals(b)


def test_the_published_table_is_the_current_models():
    """Recompute the first row of docs/levers.md (same seeds and steps) and compare it with
    the published one: a change of the model that moves results makes the table stale."""
    text = DOC.read_text()
    steps = int(re.search(r"runs (\d+) steps", text).group(1))
    n = int(re.search(r"on seeds 0–(\d+)", text).group(1)) + 1
    window = (steps // 2 + 1, steps)
    t = levers.lever_table(levers.LEVERS[:1], seeds=range(n), steps=steps, window=window)
    row = levers.markdown(t).splitlines()[2]
    assert row in text, "docs/levers.md is stale: run `make levers`"


def test_the_command_lists_filters_and_never_overwrites(tmp_path, capsys):
    from ruralgov.app.cli import main

    assert main(["levers", "--list", "--only", "suppression"]) == 0
    out = capsys.readouterr().out
    assert "suppression 0.2 → 0.8" in out and "coordination" not in out
    assert main(["levers", "--only", "no-such-lever"]) == 2
    assert "no lever matches" in capsys.readouterr().err
    csv = tmp_path / "t.csv"
    csv.write_text("keep")
    assert main(["levers", "--only", "one_window", "--csv", str(csv)]) == 2
    assert csv.read_text() == "keep"
    csv2 = tmp_path / "u.csv"
    md = tmp_path / "u.md"
    assert main(["levers", "--only", "one_window", "--seeds", "3", "--steps", "4",
                 "--csv", str(csv2), "--out", str(md), "--quiet", "--workers", "1"]) == 0
    import pandas as pd

    table = pd.read_csv(csv2)
    assert set(table["outcome"]) == set(levers.OUTCOMES) and (table["seeds"] == 3).all()
    assert "one_window 0 → 1" in md.read_text()


@pytest.mark.parametrize("d", [np.array([0.1, 0.2, 0.15, 0.12, 0.3])])
def test_the_interval_is_scipys_bca_bootstrap(d):
    from scipy import stats

    low, high = levers._interval(d, seed=3)
    ref = stats.bootstrap((d,), np.mean, confidence_level=0.95, n_resamples=2000,
                          method="BCa", rng=np.random.default_rng(3)).confidence_interval
    assert (low, high) == (ref.low, ref.high)


def test_a_lever_in_a_context_is_compared_with_the_baseline_in_that_context():
    """Compensation needs a campaign: its baseline is the county with the campaign. A lever
    that changes nothing there has effect 0 although the campaign itself changes results."""
    same = levers.Lever("nothing, in a campaign", "", {"compensation": 0.0},
                        context={"campaign": True, "campaign_start": 0})
    campaign = levers.Lever("campaign", "", {"campaign": True, "campaign_start": 0})
    t = levers.lever_table([same, campaign], seeds=range(3), steps=8, base=SMALL, workers=1)
    assert (t.loc[t["lever"] == same.name, "effect"] == 0).all()
    assert (t.loc[t["lever"] == campaign.name, "effect"] != 0).any()
    assert set(t.loc[t["lever"] == same.name, "context"]) == {"campaign=True, campaign_start=0"}


def test_each_label_names_the_default_it_moves_from_and_the_value_it_moves_to():
    """A label `name a → b` says what the row does: a is the registry's default, b the value
    set (a default that moved cannot leave a stale label behind)."""
    import re

    from ruralgov.model.params import REGISTRY

    checked = 0
    for lv in levers.LEVERS:
        m = re.fullmatch(r"([a-z_]+) (\S+) → (\S+)", lv.name)
        if not m or m.group(1) not in REGISTRY:
            continue
        name, a, b = m.groups()
        assert float(a) == pytest.approx(float(REGISTRY[name].default)), lv.name
        assert float(b) == pytest.approx(float(lv.settings[name])), lv.name
        checked += 1
    assert checked >= 20
