"""Observation apart from the dynamics (docs/ODD.md 7.15): the observer's reporter table is the
one list of measures; every configuration records the same columns in the same order."""

from __future__ import annotations

import pytest

from ruralgov.model.measures import SERIES_MEASURES
from ruralgov.model.observe import SERIES, TALLIED
from ruralgov.model.params import MECHANISMS
from tests.conftest import run_model


def test_every_tally_a_submodel_writes_is_a_declared_reporter():
    m = run_model(steps=12, campaign=True, campaign_start=2, scandal=True, scandal_start=3,
                  participation=0.1, hardship_mean=0.7, protest_threshold=0.05)
    declared = {r.name for r in TALLIED}
    assert m.scratch.tally, "the submodels tallied nothing"
    assert set(m.scratch.tally) <= declared, set(m.scratch.tally) - declared


def test_switching_mechanisms_off_keeps_the_columns_and_their_order():
    on = run_model(steps=3).series()
    off = run_model(steps=3, **{k: False for k in MECHANISMS}).series()
    assert list(on.columns) == list(off.columns) == ["step", *[
        n for n in SERIES_MEASURES if n != "compliance_campaign"]]
    # what a switched-off mechanism reports: nothing happened (0), or not defined (NaN)
    assert (off[["petitions_new", "protesters", "sanctions", "participants"]] == 0).all().all()
    assert off["response_time"].isna().all() and off["inclusion_error"].isna().all()


def test_the_campaign_column_exists_only_with_a_campaign():
    assert "compliance_campaign" not in run_model(steps=2).series()
    assert "compliance_campaign" in run_model(steps=2, campaign=True).series()
    assert [r.name for r in SERIES][-1] == "compliance_campaign"


def test_mesa_batch_run_works_and_agrees_with_a_direct_run():
    import mesa
    import pandas as pd

    from ruralgov.model import RuralGovernanceModel

    small = dict(n_villagers=300, n_townships=1, villages_per_township=3, collect_detail=False)
    rows = pd.DataFrame(mesa.batch_run(
        RuralGovernanceModel, {"coordination": [0.0, 1.0], "seed": [4], **small},
        max_steps=6, number_processes=1, data_collection_period=1, display_progress=False))
    assert sorted(rows.RunId.unique()) == [0, 1]
    later = rows[rows.Step > 0]
    assert (later.Step == later.step).all()  # Mesa's Step t is the record after step t
    assert rows[rows.Step == 0].compliance.isna().all()  # nothing recorded before step 1
    direct = RuralGovernanceModel(seed=4, coordination=1.0, **small)
    for _ in range(6):
        direct.step()
    got = later[later.coordination == 1.0].set_index("Step").compliance
    expected = direct.series().set_index("step").compliance.loc[got.index]
    pd.testing.assert_series_equal(got, expected, check_names=False)


def final_grievance_sd(model) -> float:
    """A custom output: the spread of grievance after the last step."""
    return float(model.villagers.grievance.std())


def test_an_experiment_from_a_dict_with_custom_reporters_runs_to_a_dataframe(tmp_path):
    import numpy as np

    from ruralgov.study.experiment import Experiment

    doc = {"title": "t", "description": "d", "scenario": "baseline", "root_seed": 7,
           "steps": 5, "replications": 2, "design": {"type": "factorial"},
           "parameters": {"n_villagers": 300, "n_townships": 1, "villages_per_township": 3},
           "factors": {"coordination": [0.0, 1.0]},
           "reporters": {"grievance_sd_by_name": "tests.test_observe:final_grievance_sd"}}
    exp = Experiment.from_dict(doc, name="notebook",
                               reporters={"grievance_sd": final_grievance_sd})
    runs = exp.run(tmp_path / "out", workers=1, progress=False)
    assert len(runs) == 4 and set(runs.status) == {"ok"}
    assert np.allclose(runs.grievance_sd, runs.grievance_sd_by_name)
    assert (runs.grievance_sd > 0).all() and "compliance_final" in runs
    assert "reporters" in exp.definition()
    # the same dict gives the same results (seeds from the root seed), resumed or not
    again = Experiment.from_dict(doc, name="notebook",
                                 reporters={"grievance_sd": final_grievance_sd})
    assert again.definition_hash() == exp.definition_hash()


def mean_grievance_squared(model) -> float:
    """A custom output recorded every step."""
    return float((model.villagers.grievance ** 2).mean())


def test_mesas_datacollector_idiom_records_model_and_agent_reporters_every_step():
    import numpy as np

    from ruralgov.model import RuralGovernanceModel

    m = RuralGovernanceModel(seed=3, n_villagers=300, n_townships=2, villages_per_township=2)
    m.step()  # a reporter added later is recorded from then on
    m.datacollector.model_reporters["g2"] = mean_grievance_squared
    m.datacollector.model_reporters["n"] = "n_villagers"
    m.add_reporter("twice", [lambda model, k: k * model.steps, [2]])
    m.datacollector.agent_reporters["capacity"] = "capacity"
    seen = []
    for _ in range(3):
        m.step()
        seen.append(mean_grievance_squared(m))
    series = m.series()
    assert np.isnan(series.g2.iloc[0]) and np.allclose(series.g2.iloc[1:], seen)
    assert (series.n.iloc[1:] == 300).all() and series.twice.iloc[1:].tolist() == [4, 6, 8]
    assert list(m.datacollector.get_model_vars_dataframe().columns) == list(series.columns)
    agents = m.datacollector.get_agent_vars_dataframe()
    assert agents.index.names == ["Step", "AgentID"]
    assert len(agents) == 3 * len(m.agents)
    assert sorted(agents.index.get_level_values("Step").unique()) == [2, 3, 4]
    with pytest.raises(ValueError, match="built-in"):
        m.datacollector.model_reporters["compliance"] = mean_grievance_squared
    m.add_reporter("bad", lambda model: [1, 2])
    with pytest.raises(TypeError, match="reporter 'bad' returned list"):
        m.step()


def test_a_reporter_of_every_step_lands_in_the_series_and_the_runs_table(tmp_path):
    import numpy as np

    from ruralgov.io.results import read_runs, read_series
    from ruralgov.model.measures import summarise
    from ruralgov.study.experiment import Experiment

    doc = {"title": "t", "description": "d", "scenario": "baseline", "root_seed": 7,
           "steps": 8, "replications": 1, "design": {"type": "factorial"},
           "parameters": {"n_villagers": 300, "n_townships": 1, "villages_per_township": 3},
           "factors": {"coordination": [0.0, 1.0]}, "outputs": {"series": True},
           "reporters": {"g2": {"function": "tests.test_observe:mean_grievance_squared",
                                "every": "step"},
                         "sd": {"function": "tests.test_observe:final_grievance_sd"}}}
    exp = Experiment.from_dict(doc, name="steps")
    assert set(exp.series_reporters) == {"g2"} and set(exp.reporters) == {"sd"}
    out = tmp_path / "o"
    runs = exp.run(out, workers=1, progress=False, batch=2)
    series = read_series(out)
    assert "g2" in series and series.g2.notna().all()
    for run_id, s in series.groupby("run_id"):
        want = summarise(s.drop(columns="run_id").reset_index(drop=True), extra=("g2",))
        row = runs.set_index("run_id").loc[run_id]
        assert np.isclose(row.g2_final, want["g2_final"]) and "g2_early" in runs
        assert row.sd > 0
    with pytest.raises(Exception, match="built-in column"):
        Experiment.from_dict({**doc, "reporters": {"compliance": {
            "function": "tests.test_observe:mean_grievance_squared", "every": "step"}}})
    assert len(read_runs(out)) == 2


@pytest.mark.parametrize(("reporters", "says"), [
    ({"x": "no_such_module:f"}, "cannot be imported"),
    ({"compliance_final": "tests.test_observe:final_grievance_sd"}, "built-in column"),
    ({"x": "tests.test_observe:SERIES"}, "not 'module:function'"),
])
def test_bad_reporters_are_refused_at_load(reporters, says):
    from ruralgov.model.schema import InputError
    from ruralgov.study.experiment import Experiment

    doc = {"title": "t", "description": "d", "scenario": "baseline", "root_seed": 7,
           "design": {"type": "factorial"}, "factors": {"coordination": [0.0]},
           "reporters": reporters}
    with pytest.raises(InputError, match=says):
        Experiment.from_dict(doc)


def test_from_dict_names_bad_fields_like_a_file():
    from ruralgov.model.schema import InputError
    from ruralgov.study.experiment import Experiment

    with pytest.raises(InputError, match=r"<mine>: replications"):
        Experiment.from_dict({"title": "t", "description": "d", "scenario": "baseline",
                              "root_seed": 1, "design": {"type": "factorial"},
                              "factors": {"coordination": [0.0]}, "replications": 0},
                             name="mine")


def test_a_reporter_module_beside_the_experiment_file_is_found_by_pool_workers(
        tmp_path, monkeypatch):
    """'module:function' naming a module in the experiment file's folder (not importable
    otherwise) works from any working directory, in the process pool's workers too."""
    import yaml

    from ruralgov.io.results import read_runs
    from ruralgov.study.experiment import load_experiment
    from ruralgov.study.sweep import run_sweep

    here = tmp_path / "study"
    here.mkdir()
    (here / "beside_reporters_mod.py").write_text(
        "def villagers(model):\n    return float(model.n_villagers)\n", encoding="utf-8")
    doc = {"title": "t", "description": "d", "scenario": "baseline", "root_seed": 7,
           "steps": 3, "replications": 2, "design": {"type": "factorial"},
           "parameters": {"n_villagers": 120, "n_townships": 1, "villages_per_township": 2},
           "factors": {"coordination": [0.0, 1.0]},
           "reporters": {"n": "beside_reporters_mod:villagers",
                         "n_step": {"function": "beside_reporters_mod:villagers",
                                    "every": "step"}}}
    (here / "exp.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p not in ("", ".")])
    exp = load_experiment(here / "exp.yaml")
    run_sweep(exp, elsewhere / "o", workers=2, progress=False)
    runs = read_runs(elsewhere / "o")
    assert (runs.status == "ok").all(), runs.error.tolist()
    assert (runs.n == 120).all() and (runs.n_step_final == 120).all()
