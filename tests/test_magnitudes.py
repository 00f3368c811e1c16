"""The ODD's §1.3 table (the default county against the sourced magnitudes) is generated
from the code: `ruralgov magnitudes` prints it, and the ODD holds exactly what it prints."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ruralgov.study.calibrate import _measure, load_targets
from ruralgov.study.magnitudes import magnitudes, markdown
from ruralgov.study.runner import run_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table():
    return magnitudes()


def test_the_odd_prints_the_generated_table(table):
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- magnitudes:start -->\n(.*)\n<!-- magnitudes:end -->", odd, re.S)
    assert block, "docs/ODD.md has no magnitudes block"
    assert block.group(1) == markdown(table), (
        "docs/ODD.md §1.3 is stale: paste the output of `ruralgov magnitudes`")


def test_each_row_is_the_target_measured_on_the_default_county(table):
    spec, _ = load_targets()
    seed = table["seeds"][0]
    summary = run_scenario("baseline", seed=seed, steps=spec.steps,
                           collect_detail=False).summary
    assert [r["target"] for r in table["rows"]] == [t.name for t in spec.targets]
    for t, row in zip(spec.targets, table["rows"]):
        value = float(_measure(t).evaluate(summary))
        assert row["low"] <= value <= row["high"] or np.isclose(value, row["low"])
    pressure = table["checks"]["pressure"][0]
    assert pressure == pytest.approx(summary["pressure_mean_final"])
