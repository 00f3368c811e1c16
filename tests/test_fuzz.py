"""Fuzzing every file kind and the sweep's Parquet parts (property-based, hypothesis).

Whatever a file holds — any key replaced by any value, nested structures, raw bytes — reading
it either works or raises one ``InputError`` that names the file: never another exception
(which the command line would show as a traceback). Whatever bytes a sweep's parts are garbled
into, the sweep either repairs the folder (setting damaged parts aside and rerunning their
runs) or refuses in one line, and afterwards the sweep and ``analyze`` agree on what is done.
Example counts are kept small so that the suite fits the CI budget; the derandomised profile
makes every CI run try the same cases.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruralgov.model.schema import InputError

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("ruralgov")

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
#: any YAML value: scalars, lists and mappings nested a few levels
VALUES = st.recursive(_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)


def _loaders():
    from ruralgov.io.scenario import load_scenario
    from ruralgov.study.calibrate import load_targets
    from ruralgov.study.experiment import load_experiment
    from ruralgov.study.robustness import load_spec
    from ruralgov.study.validation import load_validation

    def scenario(path):
        load_scenario(path).resolved()

    return {
        "scenario": (ROOT / "scenarios" / "baseline.yaml", scenario),
        "experiment": (ROOT / "experiments" / "smoke.yaml", load_experiment),
        "targets": (ROOT / "experiments" / "calibration" / "targets.yaml", load_targets),
        "robustness": (ROOT / "experiments" / "robustness" / "uncertainty.yaml", load_spec),
        "validation": (ROOT / "experiments" / "validation" / "granovetter.yaml",
                       load_validation),
        "hypothesis": (ROOT / "experiments" / "paper" / "r4_reported_inspected.yaml",
                       load_experiment),
    }


LOADERS = _loaders()


def _read_or_refuse(kind: str, path: Path) -> None:
    _, load = LOADERS[kind]
    try:
        load(path)
    except InputError as err:
        message = str(err)
        assert path.name in message or "scenario" in message, message
        assert len(message) < 4000


def _paths(doc, prefix=()):
    """Every key path of a nested document (mappings and lists)."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _replace(doc, path, value):
    if len(path) == 1:
        doc[path[0]] = value
    else:
        _replace(doc[path[0]], path[1:], value)


@pytest.mark.parametrize("kind", sorted(LOADERS))
@FUZZ
@given(data=st.data())
def test_any_value_anywhere_in_any_file_kind_is_read_or_refused_in_one_message(kind, data,
                                                                               tmp_path):
    source, _ = LOADERS[kind]
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    where = data.draw(st.sampled_from(sorted(_paths(doc), key=repr)))
    _replace(doc, where, data.draw(VALUES))
    path = tmp_path / f"mutant-{kind}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _read_or_refuse(kind, path)


@pytest.mark.parametrize("kind", sorted(LOADERS))
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300), cut=st.integers(0, 4000))
def test_any_bytes_in_any_file_kind_are_read_or_refused_in_one_message(kind, raw, cut,
                                                                       tmp_path):
    source, _ = LOADERS[kind]
    text = source.read_bytes()
    path = tmp_path / f"mutant-{kind}.yaml"
    path.write_bytes(text[:cut] + raw + text[cut:])
    _read_or_refuse(kind, path)


@pytest.mark.parametrize("kind", ["scenario", "experiment", "targets"])
def test_the_command_line_gives_exit_2_and_one_message_for_a_mutant(kind, tmp_path):
    """The same, end to end for a few deterministic mutants: `ruralgov validate` exits 2
    with one message (a line per problem, each naming the file) and no traceback, and writes
    nothing."""
    source, _ = LOADERS[kind]
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    for i, bad in enumerate([{"a": [[[[]]]]}, float("nan"), "x" * 5000, [None] * 50]):
        mutant = dict(doc)
        mutant[sorted(doc)[i % len(doc)]] = bad
        path = tmp_path / f"mutant-{i}.yaml"
        path.write_text(yaml.safe_dump(mutant, allow_unicode=True), encoding="utf-8")
        res = subprocess.run([str(EXE), "validate", str(path)], capture_output=True,
                             text=True, timeout=60, cwd=tmp_path)
        assert res.returncode in (0, 2), res.stderr
        assert "Traceback" not in res.stderr
        if res.returncode == 2:  # one message: a line per problem, each naming the file
            assert all(line.startswith(str(path)) for line in res.stderr.strip().splitlines())
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"mutant-{i}.yaml"
                                                          for i in range(4)]


# ------------------------------------------------------------------ Parquet parts
@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    from ruralgov.study.experiment import load_experiment
    from ruralgov.study.sweep import run_sweep

    base = tmp_path_factory.mktemp("fuzz-sweep")
    doc = yaml.safe_load((ROOT / "experiments" / "smoke.yaml").read_text(encoding="utf-8"))
    doc.update(factors={"coordination": [0.0, 1.0]}, replications=2, steps=3)
    exp = base / "tiny.yaml"
    exp.write_text(yaml.safe_dump(doc), encoding="utf-8")
    run_sweep(load_experiment(exp), base / "out", workers=1, progress=False)
    return exp, base / "out"


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sub=st.sampled_from(["runs", "series"]), where=st.floats(0, 1),
       garbage=st.binary(min_size=1, max_size=64), truncate=st.booleans())
def test_any_damage_to_a_part_is_repaired_by_the_sweep_and_analyze_then_agrees(
        finished_sweep, tmp_path, sub, where, garbage, truncate):
    from ruralgov.analysis.sensitivity import analyze
    from ruralgov.io.results import read_runs
    from ruralgov.study.experiment import load_experiment
    from ruralgov.study.sweep import run_sweep

    exp, done = finished_sweep
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(done, out)
    part = sorted((out / sub).glob("part-*.parquet"))[0]
    raw = part.read_bytes()
    at = int(where * (len(raw) - 1))
    part.write_bytes(raw[:at] + garbage if truncate else raw[:at] + garbage
                     + raw[at + len(garbage):])
    rep = run_sweep(load_experiment(exp), out, workers=1, progress=False)
    assert rep.failed == 0
    runs = read_runs(out)
    assert len(runs) == 4 and set(runs.status) == {"ok"}
    try:  # analyze reads what the sweep kept: never a "rerun the sweep" loop
        analyze(out, out=tmp_path / "analysis")
    except InputError as err:
        pytest.fail(f"analyze refused a folder the sweep called complete: {err}")
    assert run_sweep(load_experiment(exp), out, workers=1, progress=False).ran == 0
