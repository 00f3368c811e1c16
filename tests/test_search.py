"""Directed search (ruralgov search): NSGA-II over lever settings, generations as sweeps with
common random numbers, resumable, one clear message for a bad file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ruralgov.io.results import read_runs
from ruralgov.model.schema import InputError
from ruralgov.study.search import load_search, pareto_mask, run_search

pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "search" / "quiet_county.yaml"


def _spec(tmp_path: Path, **change) -> Path:
    doc = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    doc.update(steps=12, replications=2, population=4, generations=2,
               parameters={"n_villagers": 120, "n_townships": 1, "villages_per_township": 2})
    doc.pop("profiles")
    doc.update(change)
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return f


def _trials(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "trials.parquet")


def test_pareto_mask_keeps_exactly_the_non_dominated():
    v = np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [5.0, 1.0], [2.0, 2.0], [np.nan, 0.0]])
    assert pareto_mask(v, ["minimize", "minimize"]).tolist() == [
        True, True, False, True, True, False]
    # maximising the second objective turns the order around
    assert pareto_mask(v, ["minimize", "maximize"]).tolist() == [
        True, False, False, False, False, False]


def test_a_search_runs_every_candidate_on_the_same_seeds_and_marks_its_front(tmp_path):
    out = run_search(_spec(tmp_path), out=tmp_path / "o", workers=1, progress=False)
    t = _trials(out)
    assert len(t) == 8 and t.generation.tolist() == [0] * 4 + [1] * 4
    assert {"enforcement", "objective_0", "objective_0_se", "violation_0", "feasible",
            "pareto"} <= set(t.columns)
    for g in (0, 1):
        runs = read_runs(out / f"gen-{g:03d}")
        assert len(runs) == 8 and (runs.status == "ok").all()
        # common random numbers: the r-th replicate of every candidate has one seed
        assert (runs.groupby("replicate").seed.nunique() == 1).all()
        # the candidates' levers are what the runs ran with
        first = runs.sort_values(["point", "replicate"]).groupby("point").first()
        got = t[t.generation == g].set_index("candidate")
        np.testing.assert_allclose(first.enforcement.to_numpy(), got.enforcement.to_numpy())
        # a candidate's objective is the mean of its runs
        mean = runs.groupby("point").protest_episodes_per_100k_year.mean()
        np.testing.assert_allclose(mean.to_numpy(), got.objective_0.to_numpy())
    assert t.feasible.tolist() == (t.constraint_0 >= 0.7).tolist()
    front = t[t.pareto]
    assert front.feasible.all()
    feas = t[t.feasible]
    assert front.index.tolist() == feas.index[pareto_mask(
        feas[["objective_0", "objective_1"]].to_numpy(), ["minimize"] * 2)].tolist()
    meta = json.loads((out / "search.json").read_text())
    assert meta["root_seed"] == 20261207 and meta["git"] and meta["versions"]
    assert (out / "pareto.png").stat().st_size > 5000
    assert "Pareto-optimal" in (out / "SEARCH.md").read_text()


def test_a_search_grows_by_generations_to_what_one_run_that_long_gives(tmp_path):
    """One generation, then two in the same folder: the first generation's runs are not run
    again and the trials equal those of a two-generation search run at once."""
    spec = _spec(tmp_path)
    grown = tmp_path / "grown"
    run_search(spec, out=grown, generations=1, workers=1, progress=False)
    before = (grown / "gen-000" / "manifest.json").read_text()
    run_search(spec, out=grown, workers=1, progress=False)
    once = run_search(spec, out=tmp_path / "once", workers=1, progress=False)
    pd.testing.assert_frame_equal(_trials(grown), _trials(once))
    runs = read_runs(grown / "gen-000")
    assert len(runs) == 8
    with pytest.raises(InputError, match="holds 2 generations; --generations 1"):
        run_search(spec, out=grown, generations=1, workers=1, progress=False)
    assert json.loads((grown / "gen-000" / "manifest.json").read_text())["definition"] == \
        json.loads(before)["definition"]


def test_a_changed_search_is_refused_in_its_old_folder(tmp_path):
    out = tmp_path / "o"
    run_search(_spec(tmp_path), out=out, generations=1, workers=1, progress=False)
    with pytest.raises(InputError, match=r"holds another search \(.*replications: 2 → 3"):
        run_search(_spec(tmp_path, replications=3), out=out, workers=1, progress=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    with pytest.raises(InputError, match="not empty and not a search folder"):
        run_search(_spec(tmp_path), out=tmp_path / "full", workers=1, progress=False)


@pytest.mark.parametrize("change, message", [
    ({"levers": {"enforcment": {"range": [0, 1]}}}, r"levers\.enforcment: not a model "
                                                    r"parameter"),
    ({"levers": {"enforcement": {"range": [0.5, 2.0]}}}, r"levers\.enforcement: range "
                                                         r"\[0\.5, 2\] must be low < high"),
    ({"levers": {"mech_answer_speed": {"range": [0, 1]}}}, r"a switch: list its values"),
    ({"levers": {"n_departments": {"range": [2.2, 2.8]}}}, r"holds no whole number"),
    ({"objectives": [{"measure": "protest_nonsense", "direction": "minimize"}]},
     r"objectives\.0\.measure"),
    ({"objectives": [{"measure": "compliance_final", "direction": "lowest"}]},
     r"objectives\.0\.direction"),
    ({"constraints": [{"measure": "compliance_final", "at_least": 0.7, "at_most": 0.9}]},
     "exactly one of at_least and at_most"),
    ({"parameters": {"enforcement": 0.3}}, "either searched or fixed"),
    ({"population": 1}, "population"),
])
def test_a_bad_search_file_is_one_clear_message(tmp_path, change, message):
    f = _spec(tmp_path, **change)
    with pytest.raises(InputError, match=message) as err:
        load_search(f)
    assert str(f) in str(err.value)


def test_switch_levers_are_searched_as_values(tmp_path):
    f = _spec(tmp_path, levers={"mech_answer_speed": [False, True],
                                "responsiveness": {"range": [0.2, 0.8]}}, generations=1)
    out = run_search(f, out=tmp_path / "o", workers=1, progress=False)
    runs = read_runs(out / "gen-000")
    assert runs.mech_answer_speed.dtype == bool and (runs.status == "ok").all()


def test_the_cli_runs_a_search_and_validate_reads_it(tmp_path):
    f = _spec(tmp_path, generations=1)
    res = subprocess.run([sys.executable, "-m", "ruralgov", "search", str(f), "--workers", "1",
                          "--quiet", "--out", str(tmp_path / "o")], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "4 candidates" in res.stdout and "SEARCH.md" in res.stdout
    bad = _spec(tmp_path, levers={"enforcement": {"range": [0.5, 2.0]}})
    res = subprocess.run([sys.executable, "-m", "ruralgov", "search", str(bad)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "levers.enforcement" in res.stderr


def test_a_custom_reporter_can_be_an_objective(tmp_path):
    f = _spec(tmp_path, generations=1, objectives=[
        {"measure": "g2_final", "direction": "minimize"}],
        reporters={"g2": {"function": "tests.test_observe:mean_grievance_squared",
                          "every": "step"}})
    out = run_search(f, out=tmp_path / "o", workers=1, progress=False)
    runs = read_runs(out / "gen-000")
    t = _trials(out)
    np.testing.assert_allclose(runs.groupby("point").g2_final.mean().to_numpy(),
                               t.objective_0.to_numpy())
    with pytest.raises(InputError, match=r"objectives\.0\.measure"):
        load_search(_spec(tmp_path, objectives=[{"measure": "g2_final",
                                                 "direction": "minimize"}]))
