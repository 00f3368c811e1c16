"""Reading a sweep folder (ruralgov.io.results), in the io layer: the analysis reads sweeps
without importing the study layer; a series part without its runs part is never read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ruralgov.io import results
from ruralgov.io.files import write_parquet
from ruralgov.model.schema import InputError
from ruralgov.study import sweep


def test_the_sweep_module_still_offers_the_readers():
    assert sweep.read_runs is results.read_runs and sweep.read_series is results.read_series


def _part(folder: Path, table: str, name: str, df: pd.DataFrame) -> None:
    (folder / table).mkdir(parents=True, exist_ok=True)
    write_parquet(df, folder / table / name)


def test_runs_retried_runs_and_uncommitted_series(tmp_path):
    _part(tmp_path, "runs", "part-a.parquet",
          pd.DataFrame({"run_id": ["r1", "r2"], "status": ["ok", "failed"]}))
    _part(tmp_path, "runs", "part-b.parquet",
          pd.DataFrame({"run_id": ["r2"], "status": ["ok"]}))  # retried
    _part(tmp_path, "series", "part-a.parquet", pd.DataFrame({"run_id": ["r1"], "step": [1]}))
    _part(tmp_path, "series", "part-c.parquet",  # its runs part was never committed
          pd.DataFrame({"run_id": ["r3"], "step": [1]}))
    runs = results.read_runs(tmp_path)
    assert list(runs.run_id) == ["r1", "r2"] and set(runs.status) == {"ok"}
    assert results.run_status(tmp_path) == {"r1": "ok", "r2": "ok"}
    assert list(results.read_series(tmp_path).run_id) == ["r1"]


def test_an_empty_or_foreign_folder(tmp_path):
    assert results.read_runs(tmp_path).empty and results.read_series(tmp_path).empty
    with pytest.raises(InputError, match="not a sweep folder"):
        results.read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="unreadable"):
        results.read_manifest(tmp_path)
