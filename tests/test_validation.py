"""Validation experiments of the classic models (experiments/validation): files are checked
at the edge, the statistics are seeded, and the pre-registered range decides."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ruralgov.model.schema import InputError
from ruralgov.study.validation import load_validation, run_validation, validation_files

ROOT = Path(__file__).resolve().parents[1]


def test_both_classic_models_have_a_validation_over_at_least_30_seeds():
    files = {f.stem: f for f in validation_files()}
    assert {"granovetter", "epstein"} <= set(files)
    for f in files.values():
        full, quick = load_validation(f), load_validation(f, profile="quick")
        assert full.seeds >= 30 and quick.seeds <= full.seeds
        assert full.checks and all(c.published for c in full.checks)


def _write(tmp_path, **change):
    doc = yaml.safe_load((ROOT / "experiments" / "validation" / "granovetter.yaml")
                         .read_text(encoding="utf-8"))
    doc.update(change)
    f = tmp_path / "v.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return f


def test_the_expected_range_decides_and_random_statistics_are_seeded(tmp_path):
    checks = [
        {"name": "all riot", "statistic": "granovetter_uniform", "published": "100",
         "expect": {"min": 100, "max": 100}},
        {"name": "an impossible claim", "statistic": "granovetter_uniform",
         "published": "50", "expect": {"min": 50, "max": 50}},
        {"name": "sampled", "statistic": "granovetter_full_riots",
         "parameters": {"mean": 25, "sd": 18}, "published": "most",
         "expect": {"min": 0, "max": 1}},
    ]
    f = _write(tmp_path, checks=checks, seeds=4)
    a = run_validation(load_validation(f)).results
    assert [r["reproduced"] for r in a] == [True, False, True]
    assert a[0]["seeds"] is None and a[2]["seeds"] == 4 and len(a[2]["samples"]) == 4
    b = run_validation(load_validation(f)).results
    assert a[2]["samples"] == b[2]["samples"]  # same root seed, same crowds


@pytest.mark.parametrize("change,message", [
    ({"checks": [{"name": "x", "statistic": "granovetter_riots", "published": "1",
                  "expect": {"min": 1}}]}, "unknown statistic 'granovetter_riots'"),
    ({"checks": [{"name": "x", "statistic": "epstein_cops", "published": "1",
                  "expect": {"min": 1}}]}, "not a statistic of the granovetter model"),
    ({"seeds": 0}, "seeds"),
    ({"model": "schelling"}, "model"),
])
def test_bad_validation_files_give_one_clear_message(tmp_path, change, message):
    with pytest.raises(InputError, match=message):
        load_validation(_write(tmp_path, **change))


def test_a_parameter_the_statistic_does_not_take_is_named(tmp_path):
    f = _write(tmp_path, checks=[{"name": "x", "statistic": "granovetter_uniform",
                                  "parameters": {"sd": 3}, "published": "1",
                                  "expect": {"min": 1}}])
    with pytest.raises(InputError, match="checks.0.parameters"):
        run_validation(load_validation(f))


def test_experiments_command_lists_every_shipped_file_as_valid(capsys):
    """The validation files are listed as validations, not as invalid sweep experiments."""
    from ruralgov.app.cli import main

    assert main(["experiments"]) == 0
    out = capsys.readouterr().out
    assert "INVALID" not in out, out
    for f in validation_files():
        assert f"validation/{f.stem}" in out.split("validations of the classic models")[1]
    assert "paper/h13_example" in out.split("validations of the classic models")[0]
