"""Units a person can read (ODD §2.6): one villager is an adult rural resident, one step a
month, and every count of `units.RATES` is also a yearly rate per 1,000 (or 100,000)
villagers in the per-run summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ruralgov.model.measures import SUMMARY_MEASURES, summarise
from ruralgov.model.units import RATES, STEPS_PER_YEAR, rate_name
from ruralgov.study.runner import run_scenario


@pytest.fixture(scope="module")
def run():
    return run_scenario("baseline", seed=2, steps=40, collect_detail=False,
                        overrides={"n_villagers": 900, "n_townships": 2,
                                   "villages_per_township": 3})


def test_the_series_carries_its_denominator(run):
    assert (run.series.villagers == 900).all()


def test_each_rate_is_its_count_per_villager_per_year_over_the_final_window(run):
    s, summary = run.series, run.summary
    final = s.iloc[-10:]  # the last quarter of 40 steps
    for m, per in RATES.items():
        expected = final[m].mean() / 900 * per * 12
        assert summary[rate_name(m)] == pytest.approx(expected, rel=1e-12), m
        assert rate_name(m) in SUMMARY_MEASURES
    assert STEPS_PER_YEAR == 12
    assert rate_name("protest_events") == "protest_events_per_100k_year"
    assert rate_name("sanctions") == "sanctions_per_1000_year"


def test_a_county_twice_as_large_with_the_same_counts_has_half_the_rate(run):
    doubled = run.series.assign(villagers=run.series.villagers * 2)
    half = summarise(doubled)
    for m in RATES:
        a, b = run.summary[rate_name(m)], half[rate_name(m)]
        assert (a == b == 0) or b == pytest.approx(a / 2), m


def test_the_command_line_states_the_units(tmp_path):
    exe = Path(sys.executable).with_name("ruralgov")
    res = subprocess.run([str(exe), "run", "baseline", "--steps", "8", "--set",
                          "n_villagers=300", "--set", "n_townships=1", "--set",
                          "villages_per_township=3", "--out", str(tmp_path / "o"),
                          "--quiet", "--no-figure", "--no-detail"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "per 1,000 villagers a year: petitions" in res.stdout
    assert "per 100,000 a year" in res.stdout
    assert "one villager = one adult rural resident, one step = one month" in res.stdout
    rates = [float(x.replace(",", "")) for x in
             __import__("re").findall(r"petitions ([\d,.]+) \(", res.stdout)]
    assert len(rates) == 1 and np.isfinite(rates[0])
