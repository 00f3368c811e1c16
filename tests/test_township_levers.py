"""A township head's own levers (ODD 7.1, 7.2; the training room, issue 32): an intervention
with ``township`` sets TOWNSHIP_LEVERS for that township alone, every township setting the
county's value is the county-wide intervention bit for bit, and a run is replayed from its
interventions (a scenario file's too)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from ruralgov.io.scenario import load_scenario
from ruralgov.model import RuralGovernanceModel
from ruralgov.model.params import TOWNSHIP_LEVERS
from ruralgov.model.schema import InputError
from ruralgov.model.submodels import contention
from tests.test_golden import array_digest, final_state

SMALL = {"n_villagers": 4000, "n_townships": 4, "villages_per_township": 2}
MOVE = {"responsiveness": 0.9, "suppression": 0.5, "discretion": 0.8, "misreporting": 0.6}


def _run(interventions, steps=30, seed=2, **params):
    model = RuralGovernanceModel(seed=seed, interventions=interventions, **{**SMALL, **params})
    for _ in range(steps):
        model.step()
    return model


@pytest.mark.parametrize("speed", [True, False])
def test_every_township_choosing_a_value_is_the_county_choosing_it(speed):
    county = _run([{"step": 10, "set": MOVE}], mech_answer_speed=speed)
    each = _run([{"step": 10, "township": t, "set": MOVE} for t in range(4)],
                mech_answer_speed=speed)
    assert county.series().equals(each.series())
    assert array_digest(final_state(county)) == array_digest(final_state(each))


def _one_step(settings, township=1, seed=3, **params):
    model = RuralGovernanceModel(seed=seed, **{**SMALL, "mech_answer_speed": True, **params})
    for _ in range(20):
        model.step()
    other = copy.deepcopy(model)
    other.intervene(settings, township=township)
    model.step()
    other.step()
    return model, other


@pytest.mark.parametrize("lever,attribute", [
    ("suppression", "suppress_probability"), ("responsiveness", "petition_capacity"),
    ("discretion", "fit"), ("misreporting", "reported_compliance")])
def test_a_township_lever_moves_that_township_alone(lever, attribute):
    value = 0.95 if lever != "suppression" else 0.9
    same, moved = _one_step({lever: value}, suppression_routine=0.5)
    before = [getattr(t, attribute) for t in same.townships]
    after = [getattr(t, attribute) for t in moved.townships]
    assert after[1] != before[1], (lever, before, after)
    assert [a for i, a in enumerate(after) if i != 1] == [
        b for i, b in enumerate(before) if i != 1]
    assert moved.townships[1].levers == {lever: value} and not moved.townships[0].levers


def test_a_township_that_never_answers_takes_up_none_of_its_petitions():
    model = _run([{"step": 5, "township": 2, "set": {"responsiveness": 0.0}}], steps=12,
                 mech_answer_speed=True)
    pending = np.arange(model.n_villagers)
    taken = contention._taken_up(model, pending)
    tw = model.structure.township
    assert not taken[tw == 2].any()
    assert taken[tw != 2].mean() == pytest.approx(model.p["responsiveness"], abs=0.03)


def test_the_replay_from_a_scenario_file_is_the_run(tmp_path):
    ivs = [{"step": 4, "township": 0, "set": {"suppression": 0.6}},
           {"step": 9, "set": {"responsiveness": 0.8}},
           {"step": 9, "township": 3, "set": {"misreporting": 0.0, "discretion": 0.9}}]
    live = RuralGovernanceModel(seed=8, **SMALL)
    for _ in range(14):
        for iv in ivs:
            if iv["step"] == live.steps + 1:
                live.intervene(iv["set"], township=iv.get("township"))
        live.step()
    doc = {"title": "room replay", "story": "three choices", "steps": 14, "parameters": SMALL,
           "interventions": [iv.as_dict() for iv in live.interventions]}
    assert [d.get("township") for d in doc["interventions"]] == [0, None, 3]
    (tmp_path / "replay.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    sc = load_scenario(tmp_path / "replay.yaml")
    again = RuralGovernanceModel(seed=8, interventions=sc.interventions,
                                 **sc.resolved({}))
    for _ in range(14):
        again.step()
    assert again.series().equals(live.series())


def test_the_county_levers_are_not_a_township_heads(tmp_path):
    with pytest.raises(InputError, match=r"interventions\[0\]\.set: coordination is the "
                       "county's.*allowed with township: " + ", ".join(TOWNSHIP_LEVERS)):
        RuralGovernanceModel(interventions=[{"step": 2, "township": 0,
                                             "set": {"coordination": 0.5}}], **SMALL)
    with pytest.raises(InputError, match=r"township: the county has 4 townships; allowed 0 "
                       r"to 3 \(got 4\)"):
        RuralGovernanceModel(interventions=[{"step": 2, "township": 4,
                                             "set": {"suppression": 0.5}}], **SMALL)
    with pytest.raises(InputError, match=r"township: allowed a township's index"):
        RuralGovernanceModel(interventions=[{"step": 2, "township": -1,
                                             "set": {"suppression": 0.5}}], **SMALL)
    model = RuralGovernanceModel(**SMALL)
    with pytest.raises(InputError, match="intervene: interventions"):
        model.intervene({"suppression": 0.5}, township=9)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"title": "t", "story": "s", "interventions": [
        {"step": 2, "township": 1, "set": {"enforcement": 0.5}}]}))
    with pytest.raises(InputError, match=f"{bad}: interventions"):
        load_scenario(bad)
