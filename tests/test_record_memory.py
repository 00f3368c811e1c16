"""Records that lapse (ODD §7.6, record_memory): with a mean memory of M months a record not
renewed lapses with chance 1/M a month, so a rarely detected evader meets the mild end of
graduated enforcement again; M = 0 is the first form and draws nothing (pinned
by the golden test)."""

from __future__ import annotations

import pytest

from ruralgov.model.params import UNCALIBRATED
from ruralgov.study.runner import run_scenario

# the county these rules were written in (the defaults before calibration), where the
# events they count are frequent; each test sets what it checks
SMALL = {**UNCALIBRATED, **{"n_villagers": 3000, "n_townships": 3, "villages_per_township": 5}}


def _ladder(memory: float) -> tuple[float, float, float]:
    s = run_scenario("baseline", seed=4, steps=60, collect_detail=False,
                     overrides={**SMALL, "record_memory": memory}).series.iloc[30:]
    total = s.persuasions.sum() + s.warnings.sum() + s.sanctions.sum()
    return (s.persuasions.sum() / total, s.warnings.sum() / total, s.sanctions.sum() / total)


def test_a_memory_of_one_month_makes_every_encounter_a_persuasion():
    persuaded, warned, sanctioned = _ladder(1.0)
    assert persuaded == 1.0 and warned == sanctioned == 0.0


def test_a_shorter_memory_shifts_the_ladder_to_its_mild_end():
    never, long, short = _ladder(0.0), _ladder(24.0), _ladder(3.0)
    assert never[2] > long[2] > short[2]  # sanctions' share falls as records lapse sooner
    assert never[0] < short[0]            # persuasions' share rises


@pytest.mark.parametrize("memory", [0.0, 6.0])
def test_the_ladder_still_climbs_one_stage_per_detection(memory):
    persuaded, warned, sanctioned = _ladder(memory)
    assert persuaded > 0 and warned > 0 and sanctioned > 0
