"""Writing results (ruralgov.io.files): the one atomic writer never shows a partial file and
concurrent writers never collide; the one conversion to plain JSON; the one output-folder
policy, the same refusal from every command that writes a folder."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ruralgov.io.files import (
    TMP_PREFIX,
    atomic_dir,
    atomic_path,
    dumps,
    new_dir,
    plain,
    remove_stale_temporaries,
    require_empty,
    temporary_name,
    write_json,
    write_parquet,
    write_text,
)
from ruralgov.model.schema import InputError

ROOT = Path(__file__).resolve().parents[1]


def _temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(TMP_PREFIX)]


# ------------------------------------------------------------------ atomic writes
def test_temporary_names_are_beside_the_file_and_unique_to_process_and_call(tmp_path):
    target = tmp_path / "runs" / "part-1.parquet"
    names = {temporary_name(target) for _ in range(100)}
    assert len(names) == 100
    for name in names:
        assert name.parent == target.parent and name.suffix == ".parquet"
        assert name.name.startswith(f"{TMP_PREFIX}{os.getpid()}-")
        assert name.name.endswith("-part-1.parquet")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = write_text("old\n", tmp_path / "a.txt")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(path) as tmp:
            tmp.write_text("half a fi", encoding="utf-8")
            assert path.read_text() == "old\n"  # not visible while being written
            raise RuntimeError("disk full")
    assert path.read_text() == "old\n"
    assert _temporaries(tmp_path) == []


def test_a_failed_parquet_write_leaves_nothing(tmp_path):
    bad = pd.DataFrame({"x": [object()]})  # pyarrow cannot store it
    with pytest.raises(Exception):  # noqa: B017 - whatever pyarrow raises
        write_parquet(bad, tmp_path / "t.parquet")
    assert list(tmp_path.iterdir()) == []
    good = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    write_parquet(good, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), good)
    assert _temporaries(tmp_path) == []


def test_concurrent_writers_never_collide_and_readers_never_see_a_partial_file(tmp_path):
    """Eight threads rewrite one file with large contents while a reader reads it: every
    read is one writer's complete content (a shared temporary name would mix or lose them)."""
    path = tmp_path / "shared.json"
    write_text("a" * 200_000, path)
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(ch: str) -> None:
        try:
            for _ in range(25):
                write_text(ch * 200_000, path)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    def reader() -> None:
        while not stop.is_set():
            text = path.read_text()
            if len(text) != 200_000 or len(set(text)) != 1:
                errors.append(AssertionError(f"partial file seen: {len(text)} characters"))
                return

    threads = [threading.Thread(target=writer, args=(c,)) for c in "abcdefgh"]
    watch = threading.Thread(target=reader)
    watch.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watch.join()
    assert errors == []
    assert len(set(path.read_text())) == 1
    assert _temporaries(tmp_path) == []


def test_concurrent_processes_writing_one_file_never_collide(tmp_path):
    path = tmp_path / "manifest.json"
    code = ("import sys; from ruralgov.io.files import write_json\n"
            "for i in range(60): write_json({'writer': sys.argv[1], 'i': i, "
            "'pad': 'x' * 50000}, sys.argv[2])\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(k), str(path)],
                              stderr=subprocess.PIPE, text=True) for k in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    doc = json.loads(path.read_text())
    assert doc["i"] == 59 and doc["writer"] in {"0", "1", "2"}
    assert _temporaries(tmp_path) == []


def test_atomic_dir_appears_complete_or_not_at_all(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "series.csv").write_text("step\n1\n")
            assert not out.exists()
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(out) as tmp:
        (tmp / "series.csv").write_text("step\n1\n")
    assert [p.name for p in out.iterdir()] == ["series.csv"]
    assert _temporaries(tmp_path) == []


def test_stale_temporaries_are_removed_and_fresh_ones_kept(tmp_path):
    old, fresh = temporary_name(tmp_path / "a.parquet"), temporary_name(tmp_path / "b.parquet")
    old.write_text("left by a killed writer")
    fresh.write_text("being written by another process")
    os.utime(old, (1, 1))
    (tmp_path / "keep.parquet").write_text("not a temporary")
    assert remove_stale_temporaries(tmp_path, older_than_s=600) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, "keep.parquet"])


# ------------------------------------------------------------------ plain JSON
def test_numpy_pandas_paths_and_missing_values_become_plain_json():
    value = {"i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True), "nan": np.nan,
             "inf": -math.inf, "arr": np.array([[1, 2], [3, 4]]), "ser": pd.Series([1.5, np.nan]),
             "path": Path("results") / "x", "t": pd.Timestamp("2026-01-02T03:04:05"),
             "na": pd.NA, "nat": pd.NaT, "tuple": (np.int32(1), "a"), "set": {2, 1},
             np.int64(7): "numpy key", "nested": [{"x": np.float64(2.0)}]}
    got = plain(value)
    assert got == {"i": 3, "f": 0.5, "b": True, "nan": None, "inf": None,
                   "arr": [[1, 2], [3, 4]], "ser": [1.5, None], "path": "results/x",
                   "t": "2026-01-02T03:04:05", "na": None, "nat": None, "tuple": [1, "a"],
                   "set": [1, 2], 7: "numpy key", "nested": [{"x": 2.0}]}
    assert type(got["i"]) is int and type(got["b"]) is bool and type(got["f"]) is float

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    text = dumps(value)
    assert text.endswith("}\n")
    assert json.loads(text, parse_constant=refuse)["inf"] is None  # strict JSON: no NaN


def test_plain_json_leaves_plain_values_as_they_are():
    doc = {"a": [1, 2.5, "三", None, True], "b": {"c": -0.0, "d": 1e300}}
    assert json.dumps(plain(doc), sort_keys=True) == json.dumps(doc, sort_keys=True)


def test_a_value_json_cannot_hold_is_refused_by_name(tmp_path):
    with pytest.raises(TypeError, match="not JSON serialisable: object"):
        write_json({"x": object()}, tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ output folders
def test_require_empty_refuses_a_non_empty_folder_naming_it(tmp_path):
    assert require_empty(tmp_path / "new") == tmp_path / "new"
    assert require_empty(tmp_path) == tmp_path  # exists, empty
    (tmp_path / "keep.txt").write_text("precious")
    with pytest.raises(InputError) as err:
        require_empty(tmp_path, "--out")
    assert str(err.value) == (f"--out {tmp_path}: already exists and is not empty; results are "
                              "never overwritten — choose another folder or remove it")
    assert require_empty(tmp_path, allow=["keep.txt"]) == tmp_path
    with pytest.raises(InputError, match=f"^{re.escape(str(tmp_path / 'keep.txt'))}: already "
                                         "exists; results are never overwritten"):
        require_empty(tmp_path / "keep.txt", None)


def test_new_dir_numbers_and_claims_the_name(tmp_path):
    a = new_dir(tmp_path / "analysis")
    b = new_dir(tmp_path / "analysis")
    c = new_dir(tmp_path / "analysis", create=False)
    assert [a.name, b.name, c.name] == ["analysis", "analysis-2", "analysis-3"]
    assert a.is_dir() and b.is_dir() and not c.exists()


def _run(out):
    from ruralgov.study.runner import run_scenario, write_run

    write_run(run_scenario("baseline", seed=1, steps=2, overrides={"n_villagers": 200},
                           collect_detail=False), out, figure=False)


def _sweep(out):
    from ruralgov.study.experiment import load_experiment
    from ruralgov.study.sweep import run_sweep

    run_sweep(load_experiment("smoke"), out, workers=1, progress=False)


def _reproduce(out):
    from ruralgov.study.reproduce import reproduce

    reproduce("quick", only=["H12"], out=out, workers=1, progress=False)


@pytest.mark.parametrize("write", [_run, _sweep, _reproduce], ids=["run", "sweep", "reproduce"])
def test_every_command_refuses_a_folder_that_is_not_empty_with_one_message(tmp_path, write):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("someone's notes")
    with pytest.raises(InputError, match=f"^--out {re.escape(str(out))}: already exists and "
                                         "is not empty; results are never overwritten"):
        write(out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]  # nothing written
