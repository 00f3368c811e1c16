"""`ruralgov discover`: PRIM finds a box planted in known data, tests it on the half it never
saw, drops restrictions that do not matter (quasi-p), and refuses bad input in one message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ema_workbench")

from ruralgov.analysis.discover import (  # noqa: E402
    box_stats,
    discover,
    in_box,
    outcome_cases,
    quasi_p,
)
from ruralgov.model.schema import InputError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def planted(n=800, seed=0, noise=0.05):
    """Five factors on [0, 1]; the outcome where a > 0.6 and b < 0.5 (flipped at random in
    ``noise`` of the runs); c, d, e do nothing."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(n, 5)), columns=list("abcde"))
    y = ((x.a > 0.6) & (x.b < 0.5)).to_numpy() ^ (rng.uniform(size=n) < noise)
    return x, y


def test_the_planted_box_is_found_and_holds_on_the_held_out_half():
    x, y = planted()
    d = discover(x, y, seed=3)
    assert set(d.box.parameter) == {"a", "b"}  # c, d, e left free
    box = d.box.set_index("parameter")
    # the densest-enough box of most coverage: near the planted edges, a little loose
    assert 0.5 < box.loc["a", "low"] <= 0.65 and box.loc["a", "high"] == np.inf
    assert 0.45 <= box.loc["b", "high"] < 0.7 and box.loc["b", "low"] == -np.inf
    assert (d.box.quasi_p < 0.05).all()
    # judged on runs the box was not found on, it still fits
    assert d.test["density"] > 0.8 and d.test["coverage"] > 0.7
    assert d.settings["runs_train"] + d.settings["runs_test"] == len(x)
    assert list(d.scores.parameter[:2]) in (["a", "b"], ["b", "a"])
    assert d.dense_enough and len(d.trajectory) > 5


def test_at_most_max_dims_restrictions_and_weak_ones_are_dropped():
    x, y = planted()
    one = discover(x, y, max_dims=1, seed=3)
    assert len(one.box) <= 1
    assert (one.trajectory.loc[one.chosen, "res_dim"]) <= 1
    # a restriction that adds nothing has a large quasi-p and is pruned
    box = pd.DataFrame({"parameter": ["a", "c"], "low": [0.6, 0.0], "high": [1.0, 0.9]})
    qp = quasi_p(x, y, box)
    assert qp[0] < 1e-6 < 0.05 < qp[1]


def test_box_statistics_by_hand():
    x = pd.DataFrame({"a": [0.1, 0.5, 0.9, 0.95], "b": [0, 1, 2, 3]})
    y = np.array([False, True, True, False])
    box = pd.DataFrame({"parameter": ["a"], "low": [0.4], "high": [0.92]})
    assert in_box(x, box).tolist() == [False, True, True, False]
    assert box_stats(x, y, box) == {"coverage": 1.0, "density": 1.0, "mass": 0.5, "n": 2,
                                    "cases": 2}


def test_every_run_of_a_design_point_stays_on_one_side_of_the_split():
    x, y = planted(n=400)
    groups = np.repeat(np.arange(100), 4)
    x = x.groupby(groups).transform("first")  # 4 replications of each point
    d = discover(x, y, groups, seed=1)
    assert d.settings["runs_train"] % 4 == 0 and d.settings["runs_test"] % 4 == 0


def test_the_outcome_is_an_expression_of_columns_never_python():
    runs = pd.DataFrame({"p": [1.0, 5.0, 10.0, 20.0], "n": [100.0, 100, 100, 100]})
    cases, words = outcome_cases(runs, "p / n * 1000", "above", 60)
    assert cases.tolist() == [False, False, True, True] and ">" in words
    cases, _ = outcome_cases(runs, "p", "bottom", 0.25)
    assert cases.tolist() == [True, False, False, False]
    with pytest.raises(InputError, match="--outcome"):
        outcome_cases(runs, "__import__('os').system('true')", "above", 1)
    with pytest.raises(InputError, match="--outcome"):
        outcome_cases(runs, "q * 2", "above", 1)  # not a column
    with pytest.raises(InputError, match="between 0 and 1"):
        outcome_cases(runs, "p", "top", 1.5)


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "ruralgov", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def test_the_command_writes_a_self_describing_folder_and_never_overwrites(smoke, tmp_path):
    out = tmp_path / "disc"
    res = cli("discover", smoke, "--outcome", "compliance_final", "--bottom", "0.3",
              "--out", out)
    assert res.returncode == 0, res.stderr
    for name in ("DISCOVERY.md", "discovery.json", "trajectory.csv", "scores.csv",
                 "peeling.png"):
        assert (out / name).stat().st_size > 0, name
    meta = json.loads((out / "discovery.json").read_text())
    assert meta["outcome"].startswith("compliance_final in the bottom 30%")
    assert meta["git"] and meta["versions"]["ruralgov"] and meta["sweep"]["experiment"]
    assert set(meta["factors"]) <= {"enforcement", "coordination", "responsiveness"}
    again = cli("discover", smoke, "--outcome", "compliance_final", "--bottom", "0.3",
                "--out", out)  # the name is taken: a new folder beside it, said so
    assert again.returncode == 0 and f"{out}-2" in again.stdout
    assert json.loads((out / "discovery.json").read_text()) == meta  # left as it was


@pytest.mark.parametrize("args, says", [
    (["--outcome", "nonsense_final", "--top", "0.2"], "nonsense_final"),
    (["--outcome", "compliance_final", "--top", "2"], "between 0 and 1"),
    (["--outcome", "compliance_final", "--above", "0.5", "--factors", "bogus"], "bogus"),
    (["--outcome", "compliance_final"], "one of the arguments"),
    (["--outcome", "compliance_final", "--above", "5"], "training half has 0"),
])
def test_bad_input_is_one_clear_message(smoke, tmp_path, args, says):
    res = cli("discover", smoke, *args, "--out", tmp_path / "x")
    assert res.returncode == 2 and says in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "x").exists()
