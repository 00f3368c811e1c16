"""Simulation-based calibration of the calibration method (issue 28, item 4): leave-one-out
coverage on a reference table of prior draws (the coverage property of ABC, Prangle et al.
2014), by the truth's rank among its accepted neighbours."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ruralgov.io.results import read_runs
from ruralgov.model.schema import InputError
from ruralgov.study.calibrate import _Target, calibrate
from ruralgov.study.sbc import coverage, sbc

ROOT = Path(__file__).resolve().parents[1]


def _toy(noise: float, n: int = 3000, seed: int = 1):
    """theta ~ U(0, 1) observed as y = theta + noise."""
    rng = np.random.default_rng(seed)
    theta = rng.random(n)
    y = theta + rng.normal(0.0, noise, n) if noise else theta
    spec = SimpleNamespace(targets=[_Target(name="y", measure="x", value=0.5, tolerance=0.1,
                                            source="a made-up target")])
    return spec, pd.DataFrame({"theta": theta}), pd.DataFrame({"y": y})


def test_a_sound_method_covers_at_the_nominal_rates():
    spec, params, values = _toy(noise=0.1)  # neighbours far closer than the noise: exact
    res = coverage(spec, params, values, accept=30)
    row = res["parameters"][0]
    assert row["coverage_50"] == pytest.approx(0.5, abs=0.04)
    assert row["coverage_90"] == pytest.approx(0.9, abs=0.025)
    assert row["passes"] and res["passes"]
    assert sum(row["rank_histogram"]) == len(params)


def test_a_tolerance_far_too_wide_is_caught():
    """Noiseless data and a fifth of the table accepted: the truth always sits in the middle
    of its neighbours, so the intervals cover it far more often than they claim."""
    spec, params, values = _toy(noise=0.0, n=1000)
    row = coverage(spec, params, values, accept=200)["parameters"][0]
    assert row["coverage_50"] > 0.8 and not row["passes"]


def test_accepting_too_many_is_refused():
    spec, params, values = _toy(noise=0.1, n=50)
    with pytest.raises(InputError, match="--sbc-accept: 50; allowed: 2 to 49"):
        coverage(spec, params, values, accept=50)


def test_sbc_of_a_quick_calibration_joins_its_report(tmp_path):
    out = tmp_path / "cal"
    calibrate(profile="quick", out=out, workers=1, progress=False)
    folder = sbc(profile="quick", out=out, draws=24, accept=6, workers=1, progress=False)
    assert folder == out / "sbc"
    data = json.loads((folder / "sbc.json").read_text())
    assert data["reference"] == 24 and data["accept"] == 6 and data["failed_runs"] == 0
    posterior = json.loads((out / "calibration.json").read_text())["posterior"]
    assert [p["parameter"] for p in data["parameters"]] == [p["parameter"] for p in posterior]
    assert (folder / "sbc.png").is_file()
    runs = read_runs(folder / "reference")
    assert len(runs) == 24 and runs.seed.nunique() == 24
    # resumable: the reference sweep is not run again, the coverage is the same
    again = sbc(profile="quick", out=out, draws=24, accept=6, workers=1, progress=False)
    assert json.loads((again / "sbc.json").read_text()) == data
    pd.testing.assert_frame_equal(read_runs(again / "reference"), runs)
    from ruralgov.study.calibrate import render

    text = render(out).read_text()
    assert "## Simulation-based calibration" in text and "sbc/sbc.png" in text
    # the raw sweep may be dropped: the kept table gives the same coverage without a run
    import shutil

    shutil.rmtree(folder / "reference")
    kept = sbc(profile="quick", out=out, draws=24, accept=6, workers=1, progress=False)
    assert json.loads((kept / "sbc.json").read_text()) == data
    assert not (kept / "reference").exists()
    # a kept table of other draws is refused, never silently used
    with pytest.raises(InputError, match="holds other runs than this SBC asks for"):
        sbc(profile="quick", out=out, draws=20, accept=6, workers=1, progress=False)


def test_sbc_first_then_the_calibration_into_the_same_folder(tmp_path):
    out = tmp_path / "cal"
    sbc(profile="quick", out=out, draws=12, accept=3, workers=1, progress=False)
    calibrate(profile="quick", out=out, workers=1, progress=False)  # sbc/ does not stop it
    assert "## Simulation-based calibration" in (out / "CALIBRATION.md").read_text()


def test_sbc_of_other_targets_is_refused_and_never_shown(tmp_path):
    import yaml

    from ruralgov.study.calibrate import render

    out = tmp_path / "cal"
    calibrate(profile="quick", out=out, workers=1, progress=False)
    doc = yaml.safe_load((ROOT / "experiments" / "calibration" / "targets.yaml").read_text())
    doc["targets"][0]["value"] = 9.0
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match="holds a calibration of other targets"):
        sbc(other, profile="quick", out=out, draws=12, accept=3, progress=False)
    # an sbc.json of other targets placed in the folder is left out of the report
    sbc(other, profile="quick", out=tmp_path / "else", draws=12, accept=3, workers=1,
        progress=False)
    (out / "sbc").mkdir()
    (out / "sbc" / "sbc.json").write_bytes((tmp_path / "else" / "sbc" / "sbc.json").read_bytes())
    assert "Not run for this calibration" in render(out).read_text()


def test_render_refuses_a_calibration_of_an_older_version(tmp_path):
    from ruralgov.study.calibrate import render

    out = tmp_path / "old"
    out.mkdir()
    (out / "calibration.json").write_text(json.dumps(
        {"status": "done", "posterior": [{"parameter": "x", "median": 1.0}]}))
    with pytest.raises(InputError, match="not a finished calibration of this version"):
        render(out)
