"""Interventions: levers moved in a running county (ODD 7.1), from Python, from a scenario file
and (tests/test_dashboard.py) from the dashboard; a run with interventions is replayed exactly
by building it again with them."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ruralgov.app.cli import main
from ruralgov.io.scenario import load_scenario
from ruralgov.model import RuralGovernanceModel
from ruralgov.model.county import state_arrays
from ruralgov.model.params import AT_START, GENERATOR, REGISTRY
from ruralgov.model.schema import InputError, Intervention
from ruralgov.study.runner import run_scenario

MODEL = Path(__file__).resolve().parents[1] / "src" / "ruralgov" / "model"
SMALL = {"n_villagers": 500}


def _states_equal(a, b):
    sa, sb = state_arrays(a), state_arrays(b)
    return all(np.array_equal(sa[k], sb[k], equal_nan=True) for k in sa if sa[k] is not None)


def test_an_intervention_changes_the_run_from_its_step_on_only():
    plain = RuralGovernanceModel(seed=4, **SMALL)
    moved = RuralGovernanceModel(seed=4, interventions=[
        {"step": 6, "set": {"suppression": 0.95, "mech_enforcement": False}}], **SMALL)
    for _ in range(12):
        plain.step()
        moved.step()
    a, b = plain.series(), moved.series()
    pd.testing.assert_frame_equal(a.iloc[:5], b.iloc[:5])  # steps 1-5: the same county
    assert not a.iloc[5:].equals(b.iloc[5:])
    assert b.sanctions.iloc[5:].sum() == 0 < a.sanctions.iloc[5:].sum()  # enforcement off
    assert moved.p["suppression"] == 0.95 and plain.p["suppression"] != 0.95


def test_intervening_mid_run_is_replayed_by_a_model_built_with_the_interventions():
    live = RuralGovernanceModel(seed=9, **SMALL)
    for _ in range(4):
        live.step()
    live.intervene({"responsiveness": 0.95})
    for _ in range(3):
        live.step()
    live.intervene({"coordination": 0.0, "one_window": 1.0}, step=10)
    for _ in range(5):
        live.step()
    assert [iv.step for iv in live.interventions] == [5, 10]
    replay = RuralGovernanceModel(seed=9, interventions=live.interventions, **SMALL)
    for _ in range(12):
        replay.step()
    pd.testing.assert_frame_equal(live.series(), replay.series())
    assert _states_equal(live, replay)


def test_a_scenario_file_with_interventions_runs_them_and_records_them(tmp_path):
    f = tmp_path / "turn.yaml"
    f.write_text("title: A turn\nstory: Responsiveness rises in the second year.\nsteps: 20\n"
                 "parameters: {n_villagers: 500}\n"
                 "interventions:\n  - {step: 13, set: {responsiveness: 0.9}}\n",
                 encoding="utf-8")
    sc = load_scenario(f)
    assert sc.interventions == (Intervention(13, {"responsiveness": 0.9}),)
    res = run_scenario(sc, seed=2)
    live = RuralGovernanceModel(seed=2, **SMALL)
    for step in range(20):
        if step == 12:
            live.intervene({"responsiveness": 0.9})
        live.step()
    pd.testing.assert_frame_equal(res.series, live.series())
    manifest = res.manifest()
    assert manifest["scenario"]["interventions"] == [{"step": 13, "set": {"responsiveness": 0.9}}]
    assert manifest["parameters"]["responsiveness"] == REGISTRY["responsiveness"].default


@pytest.mark.parametrize("entry, needle", [
    ("{step: 5, set: {enforcement: 0.9}}", "interventions[0].set: enforcement is set when the "
                                           "county is built"),
    ("{step: 5, set: {n_departments: 8}}", "n_departments is set when the county is built"),
    ("{step: 5, set: {responsivenes: 0.9}}", "interventions[0].set.responsivenes: unknown "
                                             "parameter (did you mean responsiveness"),
    ("{step: 5, set: {responsiveness: 1.5}}", "interventions[0].set.responsiveness"),
    ("{step: 50, set: {responsiveness: 0.5}}", "interventions[0].step: 50 comes after the "
                                               "scenario's last step (20)"),
    ("{step: 0, set: {responsiveness: 0.5}}", "interventions.0.step"),
    ("{step: 5, set: {}}", "interventions.0.set"),
    ("{step: 5, sett: {responsiveness: 0.5}}", "interventions.0"),
    ("{step: 5, settings: {responsiveness: 0.5}}", "interventions.0"),  # the key is set
])
def test_a_bad_intervention_is_one_message_naming_file_and_field(tmp_path, capsys, entry,
                                                                  needle):
    f = tmp_path / "bad.yaml"
    f.write_text(f"title: t\nstory: s\nsteps: 20\ninterventions:\n  - {entry}\n",
                 encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_scenario(f)
    assert str(f) in str(err.value) and needle in str(err.value)
    assert main(["validate", str(f)]) == 2
    out = capsys.readouterr().err
    assert needle in out and "Traceback" not in out


def test_intervene_refuses_a_step_already_run_and_a_fixed_parameter():
    m = RuralGovernanceModel(seed=1, **SMALL)
    m.step()
    with pytest.raises(InputError, match=r"interventions\[0\]\.step: allowed a whole number "
                                         r"from 2"):
        m.intervene({"responsiveness": 0.9}, step=1)
    with pytest.raises(InputError, match="self_interest is set when the county is built"):
        m.intervene({"self_interest": 0.9})
    assert m.interventions == []


def _reads(name: str) -> set[str]:
    """The model's modules that read the parameter ``name`` as ``p["name"]`` (or, one run's
    parameters among several, ``q["name"]``; a township's lever, ``setting("name")``)."""
    pattern = re.compile(r'(\b[pq]\[|\bsetting\()["\']' + re.escape(name) + r'["\'][\])]')
    return {f.name for f in MODEL.rglob("*.py") if pattern.search(f.read_text("utf-8"))}


# what builds the county (schema.py: its check of impossible combinations, when it is built)
BUILD = {"initialise.py", "network.py", "county.py", "ensemble.py", "schema.py"}
SHAPE = {"n_departments", "campaign"}  # read every step, but fix the arrays' shapes


def test_at_start_is_exactly_the_parameters_only_the_initialisation_reads():
    for name in REGISTRY:
        reads = _reads(name)
        assert reads, f"{name} is read nowhere in the model"
        if name in AT_START and name not in SHAPE:
            assert reads <= BUILD | {"params.py"}, f"{name} is read every step in {reads}"
        elif name not in AT_START:
            assert reads - BUILD, f"{name} is read only when the county is built"
    assert set(GENERATOR) <= AT_START


def test_a_parameter_of_at_start_changed_in_a_running_model_changes_nothing():
    """Why an intervention may not set them: the run would record a change that did nothing."""
    ref = RuralGovernanceModel(seed=3, **SMALL)
    for _ in range(8):
        ref.step()
    for name in ("enforcement", "rule_cost", "opportunism", "hardship_mean"):
        m = RuralGovernanceModel(seed=3, **SMALL)
        for step in range(8):
            if step == 3:
                m.p[name] = REGISTRY[name].hi
            m.step()
        pd.testing.assert_frame_equal(ref.series(), m.series())


def test_the_run_manifest_of_the_cli_carries_the_interventions(tmp_path):
    f = tmp_path / "turn.yaml"
    f.write_text("title: t\nstory: s\nsteps: 6\nparameters: {n_villagers: 300}\n"
                 "interventions:\n  - {step: 3, set: {mech_contention: false}}\n",
                 encoding="utf-8")
    assert main(["run", str(f), "--seed", "1", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["scenario"]["interventions"] == [{"step": 3,
                                                      "set": {"mech_contention": False}}]
