"""`ruralgov run SCENARIO --posterior N` (issue 28, item 6): a scenario at N draws from a
calibration's posterior, on the sweep engine, with intervals that include parameter
uncertainty; what the scenario or --set fixes is not drawn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ruralgov.io.results import read_runs
from ruralgov.model.schema import InputError
from ruralgov.study.posterior import HEADLINE, run_posterior

SMALL = {"n_villagers": 400, "n_townships": 1, "villages_per_township": 4}
EXE = Path(sys.executable).with_name("ruralgov")


@pytest.fixture
def posterior(tmp_path):
    """A made-up posterior: two particles of very different weight and one of none."""
    path = tmp_path / "posterior.parquet"
    pd.DataFrame({"policy_credit": [0.2, 0.8, 0.5], "record_memory": [2.0, 6.0, 4.0],
                  "weight": [0.25, 0.75, 0.0]}).to_parquet(path)
    return path


def test_runs_take_posterior_draws_and_report_their_spread(tmp_path, posterior):
    out, table = run_posterior("baseline", 12, seed=3, steps=12, overrides=SMALL,
                               posterior=posterior, out=tmp_path / "p", workers=1,
                               progress=False)
    runs = read_runs(out)
    assert len(runs) == 12 and (runs.status == "ok").all()
    drawn = set(zip(runs.policy_credit, runs.record_memory))
    assert drawn <= {(0.2, 2.0), (0.8, 6.0)}  # particles of the posterior, weight 0 never
    assert len(drawn) == 2  # both drawn: 12 draws at 1/4 and 3/4
    assert runs.seed.nunique() == 12  # each run its own seed
    assert list(table.measure) == [m for m in HEADLINE if m in runs]
    row = table.set_index("measure").loc["compliance_final"]
    assert row["median"] == pytest.approx(np.median(runs.compliance_final))
    assert row["low_5"] == pytest.approx(np.quantile(runs.compliance_final, 0.05))
    assert row["low_5"] <= row["median"] <= row["high_95"]
    saved = pd.read_csv(out / "posterior_intervals.csv")
    assert saved.measure.tolist() == table.measure.tolist()


def test_what_the_run_fixes_is_not_drawn(tmp_path, posterior):
    out, _ = run_posterior("baseline", 4, seed=3, steps=6,
                           overrides={**SMALL, "policy_credit": 0.33}, posterior=posterior,
                           out=tmp_path / "p", workers=1, progress=False)
    runs = read_runs(out)
    assert (runs.policy_credit == 0.33).all()
    assert set(runs.record_memory) <= {2.0, 6.0}
    with pytest.raises(InputError, match="fixes every parameter the posterior"):
        run_posterior("baseline", 4, seed=3, steps=6, posterior=posterior,
                      overrides={**SMALL, "policy_credit": 0.3, "record_memory": 3.0},
                      out=tmp_path / "q", progress=False)


def test_the_same_seed_gives_the_same_runs(tmp_path, posterior):
    a, _ = run_posterior("baseline", 4, seed=5, steps=8, overrides=SMALL, posterior=posterior,
                         out=tmp_path / "a", workers=1, progress=False)
    b, _ = run_posterior("baseline", 4, seed=5, steps=8, overrides=SMALL, posterior=posterior,
                         out=tmp_path / "b", workers=2, progress=False)
    cols = ["run_id", "seed", "policy_credit", "record_memory", "compliance_final",
            "petitions_new_per_1000_year"]
    pd.testing.assert_frame_equal(read_runs(a)[cols], read_runs(b)[cols])


@pytest.mark.parametrize("args,message", [
    (["--posterior-file", "x.parquet"], "--posterior-file is for runs over posterior draws"),
    (["--workers", "2"], "--workers is for runs over posterior draws"),
    (["--posterior", "3", "--csv"], "--csv is for one run"),
    (["--posterior", "0"], "--posterior"),
    (["--posterior", "3", "--posterior-file", "nothing.parquet"], "nothing.parquet"),
    (["--posterior", "3"], "the shipped posterior"),  # run where there is none
])
def test_bad_posterior_options_are_one_clear_message(tmp_path, args, message):
    res = subprocess.run([str(EXE), "run", "baseline", *args, "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert message in res.stderr.strip().splitlines()[-1]  # (after argparse's usage, if any)
    assert not (tmp_path / "o").exists()


def test_an_integer_parameter_is_drawn_whole(tmp_path):
    path = tmp_path / "posterior.parquet"
    pd.DataFrame({"detention_term": [2, 5], "weight": [0.5, 0.5]}).to_parquet(path)
    out, _ = run_posterior("baseline", 4, seed=2, steps=4, overrides=SMALL, posterior=path,
                           out=tmp_path / "p", workers=1, progress=False)
    assert set(read_runs(out).detention_term) <= {2, 5}
