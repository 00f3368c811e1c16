"""`ruralgov calibrate --point`: the calibration's point estimate is the particle whose mean
distance over fresh seeds is smallest, and the stocks it settles at are its runs' means."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ruralgov.io.results import read_runs
from ruralgov.model.schema import InputError
from ruralgov.study.calibrate import calibrate, error, load_targets, simulate
from ruralgov.study.point import STOCKS, point


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "quick"
    calibrate(profile="quick", out=out, workers=1, progress=False)
    point(out, candidates=3, seeds=2, workers=1, progress=False)
    return out


def test_the_chosen_particle_has_the_smallest_mean_distance_over_fresh_seeds(quick):
    res = json.loads((quick / "point.json").read_text())
    dists = [c["distance_mean"] for c in res["candidates"]]
    assert len(dists) == 3 and res["chosen"]["distance_mean"] == min(dists)
    assert all(c["runs"] == 2 for c in res["candidates"])
    # the seeds are fresh: none is the particle's ABC seed, and each candidate's two differ
    from ruralgov.study.calibrate import _seed

    runs = read_runs(quick / "point")
    assert runs.groupby("point").seed.nunique().eq(2).all()
    spec, _ = load_targets(profile="quick")
    abc_seeds = {_seed(spec.root_seed, {k: float(v) for k, v in c["parameters"].items()})
                 for c in res["candidates"]}
    assert not abc_seeds & set(runs.seed.astype(int))


def test_the_fit_is_the_targets_measured_again_on_the_same_runs(quick):
    spec, _ = load_targets(profile="quick")
    res = json.loads((quick / "point.json").read_text())
    chosen = res["chosen"]
    runs = read_runs(quick / "point")
    mine = runs[runs.point == chosen["candidate"]]
    fitted = [t for t in spec.targets if not t.held_out]
    dists, values = [], []
    for seed in mine.seed:
        v = simulate(spec, chosen["parameters"], int(seed))
        values.append(v)
        e = [float(error(t, v[t.name])) if np.isfinite(v[t.name]) else 1e3 for t in fitted]
        dists.append(np.sqrt(np.mean(np.square(e))))
    assert chosen["distance_mean"] == pytest.approx(np.mean(dists))
    for t in spec.targets:
        got = [v[t.name] for v in values]
        if np.all(np.isfinite(got)):
            assert chosen["targets"][t.name] == pytest.approx(np.mean(got))
    for param, measure in STOCKS.items():
        assert chosen["stocks"][param] == pytest.approx(mine[measure].mean())
    assert set(res["fitted_within_tolerance"]) == {t.name for t in fitted}


def test_a_second_point_reuses_the_runs_and_agrees(quick):
    before = json.loads((quick / "point.json").read_text())
    point(quick, candidates=3, seeds=2, workers=1, progress=False)
    after = json.loads((quick / "point.json").read_text())
    assert after["chosen"] == before["chosen"]


def test_point_needs_a_finished_calibration(tmp_path):
    with pytest.raises(InputError, match="no calibration.json"):
        point(tmp_path)
    (tmp_path / "calibration.json").write_text(json.dumps({"status": "running"}))
    with pytest.raises(InputError, match="needs a finished calibration"):
        point(tmp_path)


def test_the_command_line(quick):
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("ruralgov")
    base = [str(exe), "calibrate", "--profile", "quick", "--out", str(quick), "--workers", "1",
            "--quiet", "--point", "--point-candidates", "3", "--point-seeds", "2"]
    res = subprocess.run(base, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "point estimate written to" in res.stdout and "mean distance" in res.stdout
    res = subprocess.run([*base, "--sbc", "20"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "--point and --sbc" in res.stderr
    assert "Traceback" not in res.stderr


def test_the_report_shows_the_point_estimate(quick):
    from ruralgov.study.calibrate import render

    res = json.loads((quick / "point.json").read_text())
    text = render(quick).read_text()
    assert "## Point estimate" in text
    assert f"{res['chosen']['distance_mean']:.3g} tolerances" in text


def test_the_calibrated_defaults_are_the_shipped_point_estimate():
    """One home per parameter: the registry holds the defaults; the shipped calibration's
    point.json says which values they must be (to the four significant figures written)."""
    from pathlib import Path

    from ruralgov.model.params import CALIBRATED, REGISTRY
    from ruralgov.study.point import STOCKS

    shipped = Path(__file__).resolve().parents[1] / "results" / "calibration" / "targets"
    res = json.loads((shipped / "point.json").read_text())
    chosen = res["chosen"]
    assert set(CALIBRATED) == set(chosen["parameters"])
    for name, value in {**chosen["parameters"], **chosen["stocks"]}.items():
        assert REGISTRY[name].default == pytest.approx(float(f"{value:.4g}"), rel=1e-9), name
    assert set(STOCKS) <= set(REGISTRY)
    # the county the defaults describe is the calibration's: its structure and switches are
    # the defaults unless the targets file sets them, and what it sets is a default too
    spec, _ = load_targets()
    for name, value in spec.parameters.items():
        assert REGISTRY[name].default == value, name
