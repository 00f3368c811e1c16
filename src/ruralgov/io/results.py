"""Reading a sweep folder (what [`ruralgov.study.sweep`][ruralgov.study.sweep] writes): its
manifest, its runs table and its per-step series.

A sweep folder holds ``manifest.json``, ``runs/part-*.parquet`` (one row per run) and
``series/part-*.parquet`` (per-step measures, if kept). A runs part is the commit record of its
runs: a series part counts only once the runs part of the same name is there. Nothing here
writes; the analysis, the reproduction and anyone's own scripts read sweeps through these.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ruralgov.model.schema import InputError

__all__ = ["read_manifest", "read_runs", "read_series", "run_status"]


def read_manifest(out: Path | str) -> dict[str, Any]:
    """The ``manifest.json`` of a sweep folder.

    Raises:
        InputError: the folder has none, or it cannot be read.
    """
    path = Path(out) / "manifest.json"
    if not path.is_file():
        raise InputError(f"{out}: not a sweep folder (no manifest.json); give the folder "
                         "`ruralgov sweep` wrote, e.g. results/sweeps/smoke")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(f"{path}: unreadable; not a sweep folder?") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{path}: not a sweep manifest (a JSON object is expected)")
    if "definition" not in manifest and "seed" in manifest and "scenario" in manifest:
        raise InputError(f"{out}: the folder of a single run (`ruralgov run`), not of a "
                         "sweep; give the folder `ruralgov sweep` wrote")
    definition = manifest.get("definition")
    if (not isinstance(definition, dict) or not isinstance(definition.get("factors"), dict)
            or "definition_sha256" not in manifest):
        raise InputError(f"{path}: not a sweep manifest (no experiment definition); was it "
                         "edited or written by another program?")
    return manifest


def _runs_parts(out: Path | str) -> list[Path]:
    return sorted((Path(out) / "runs").glob("part-*.parquet"))


def _read_part(part: Path, columns: list[str] | None = None) -> pd.DataFrame | None:
    """A part's table; None if it vanished meanwhile (set aside or rewritten empty by a sweep
    tidying the folder)."""
    try:
        return pd.read_parquet(part, columns=columns)
    except FileNotFoundError:
        return None
    except Exception as err:  # pyarrow raises several kinds for a broken file
        raise InputError(f"{part}: unreadable ({type(err).__name__}: {str(err)[:120]}); run "
                         "the same `ruralgov sweep` again: it sets unreadable parts aside "
                         "(quarantine/) and reruns their runs") from None


def read_runs(out: Path | str) -> pd.DataFrame:
    """The runs table of a sweep folder (all parts), one row per run, sorted by run id; empty
    if none yet. A run that failed and succeeded when retried (``--retry-failed``) appears
    once, with its successful row."""
    parts = _runs_parts(out)
    if not parts:
        return pd.DataFrame()
    tables = [t for p in parts if (t := _read_part(p)) is not None]
    if not tables:
        return pd.DataFrame()
    df = pd.concat(tables, ignore_index=True)
    df = df.sort_values(["run_id", "status"], key=lambda c: c.map({"ok": 0}).fillna(1)
                        if c.name == "status" else c, kind="stable")
    return df.drop_duplicates("run_id", keep="first").reset_index(drop=True)


def read_series(out: Path | str) -> pd.DataFrame:
    """The per-step series table of a sweep folder (all committed parts); empty if none kept.
    A series part whose runs part is missing (a write that was interrupted) is left out."""
    committed = {p.name for p in _runs_parts(out)}
    parts = [p for p in sorted((Path(out) / "series").glob("part-*.parquet"))
             if p.name in committed]
    if not parts:
        return pd.DataFrame()
    tables = [t for p in parts if (t := _read_part(p)) is not None]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def run_status(out: Path | str) -> dict[str, str]:
    """run id -> status (``ok`` or ``failed``) of every run committed in a sweep folder; a run
    that ever succeeded is ``ok``."""
    done: dict[str, str] = {}
    for part in _runs_parts(out):
        df = _read_part(part, columns=["run_id", "status"])
        if df is None:
            continue
        for rid, status in zip(df.run_id, df.status):
            if done.get(rid) != "ok":
                done[rid] = status
    return done
