"""Field data: a county's real villagers and network instead of the generated one.

Two forms are accepted (see docs/ODD.md section 6 "input data"):

* a villager table (CSV) plus an edge list (CSV);
* one GraphML file whose nodes carry the villager columns as attributes.

Villager columns: ``id``, ``township``, ``village`` (required; any labels; a village is
identified by its township and its own label), ``lineage`` (optional, default one lineage per
village), ``elder`` (optional, 0/1 or true/false), and optional initial states in [0, 1]:
``hardship``, ``risk_aversion``, ``legitimacy``, ``norm_attachment``, ``trust_local``,
``trust_upper`` (trust in the township and in higher levels, e.g. from a survey). Edge columns:
``source``, ``target`` (villager ids). Ties are undirected and unweighted.

Every problem raises one [`InputError`][ruralgov.model.schema.InputError] naming the file, the row
or column, and what is allowed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from ruralgov.model.network import Population, symmetric_adjacency
from ruralgov.model.schema import InputError

__all__ = ["load_population", "VILLAGER_COLUMNS", "STATE_COLUMNS"]

STATE_COLUMNS = ("hardship", "risk_aversion", "legitimacy", "norm_attachment", "trust_local",
                 "trust_upper")
VILLAGER_COLUMNS = ("id", "township", "village", "lineage", "elder") + STATE_COLUMNS
EDGE_COLUMNS = ("source", "target")


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        _check_row_lengths(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, index_col=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            csv.Error) as err:
        raise InputError(f"{path}: not a readable CSV table ({str(err)[:200]})") from None


def _check_row_lengths(path: Path) -> None:
    """Every row has as many fields as the header: a longer or shorter row would otherwise
    shift or blank fields without a word."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        for line, row in enumerate(reader, start=2):
            if row and len(row) != len(header):
                raise InputError(f"{path}: row {line} has {len(row)} fields, the header "
                                 f"{len(header)}; every row needs "
                                 "one value per column")


def _csv_place(row: int, column: str) -> str:
    return f"row {row + 2}, column {column}"


def _check_columns(df: pd.DataFrame, path: Path, allowed: tuple, required: tuple) -> None:
    unknown = [c for c in df.columns if c not in allowed]
    if unknown:
        raise InputError(f"{path}: unknown column(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(allowed)}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; required: "
                         f"{', '.join(required)}")


def _as_bool(col: pd.Series, path: Path, place=_csv_place) -> np.ndarray:
    lower = col.str.strip().str.lower()
    ok = lower.isin(["0", "1", "true", "false", ""])
    if not ok.all():
        row = int(np.flatnonzero(~ok.to_numpy())[0])
        raise InputError(f"{path}: {place(row, 'elder')}: {col.iloc[row][:80]!r} is not "
                         "allowed; use 0/1 or true/false")
    return lower.isin(["1", "true"]).to_numpy()


def _as_unit(col: pd.Series, name: str, path: Path, place=_csv_place) -> np.ndarray:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"{path}: {place(row, name)}: {col.iloc[row][:80]!r} is not "
                         "allowed; a number from 0 to 1")
    return values.astype(np.float32)


def _population(villagers: pd.DataFrame, edges: pd.DataFrame, vpath: Path, epath: Path,
                source: str, place=_csv_place, edge_place=_csv_place) -> Population:
    """The population of a villagers table and an edges table (text columns). ``place`` and
    ``edge_place`` say where a row is in the input ("row 5, column id" for CSV, "node 'a',
    attribute id" for GraphML)."""
    if len(villagers) == 0:
        raise InputError(f"{vpath}: no villagers")
    # ids and names are compared without surrounding spaces: "a" and "a " are one villager
    villagers = villagers.assign(**{c: villagers[c].str.strip() for c in
                                    ("id", "township", "village", "lineage")
                                    if c in villagers})
    for c in ("id", "township", "village"):
        blank = villagers[c] == ""
        if blank.any():
            row = int(np.flatnonzero(blank.to_numpy())[0])
            raise InputError(f"{vpath}: {place(row, c)}: empty value")
    dup = villagers["id"].duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        first = int(np.flatnonzero((villagers["id"] == villagers["id"].iloc[row]).to_numpy())[0])
        raise InputError(f"{vpath}: {place(row, 'id')}: duplicate id "
                         f"{villagers['id'].iloc[row][:80]!r} (also at {place(first, 'id')}; "
                         "ids are compared without surrounding spaces)")
    township_codes, township_labels = pd.factorize(villagers["township"], sort=True)
    village_key = villagers["township"] + "\x1f" + villagers["village"]
    village_codes, village_labels = pd.factorize(village_key, sort=True)
    lineage_col = villagers["lineage"] if "lineage" in villagers else pd.Series(
        [""] * len(villagers))
    lineage_codes, _ = pd.factorize(village_key + "\x1f" + lineage_col.to_numpy(), sort=True)
    village_township = np.zeros(len(village_labels), dtype=np.int32)
    village_township[village_codes] = township_codes
    elder = (_as_bool(villagers["elder"], vpath, place) if "elder" in villagers
             else np.zeros(len(villagers), dtype=bool))
    attributes = {c: _as_unit(villagers[c], c, vpath, place) for c in STATE_COLUMNS
                  if c in villagers}

    index = pd.Index(villagers["id"])
    rows_idx = []
    for c in EDGE_COLUMNS:
        pos = index.get_indexer(edges[c].str.strip())
        if (pos < 0).any():
            row = int(np.flatnonzero(pos < 0)[0])
            raise InputError(f"{epath}: {edge_place(row, c)}: villager id "
                             f"{edges[c].iloc[row][:80]!r} is not in {vpath.name}")
        rows_idx.append(pos.astype(np.int64))
    n = len(villagers)
    adjacency = symmetric_adjacency(rows_idx[0], rows_idx[1], n)
    return Population(
        township=township_codes.astype(np.int32), village=village_codes.astype(np.int32),
        lineage=lineage_codes.astype(np.int32), elder=elder, adjacency=adjacency,
        n_townships=len(township_labels), n_villages=len(village_labels),
        n_lineages=int(lineage_codes.max()) + 1, village_township=village_township,
        attributes=attributes, source=source)


def load_population(villagers: str | Path | None = None, edges: str | Path | None = None,
                    graphml: str | Path | None = None) -> Population:
    """Load field data as a [`Population`][ruralgov.model.network.Population]."""
    if graphml is not None:
        return _load_graphml(Path(graphml))
    if villagers is None or edges is None:
        raise InputError("field data: give graphml, or both villagers and edges")
    vpath, epath = Path(villagers), Path(edges)
    v = _read_csv(vpath)
    _check_columns(v, vpath, VILLAGER_COLUMNS, ("id", "township", "village"))
    e = _read_csv(epath)
    _check_columns(e, epath, EDGE_COLUMNS, EDGE_COLUMNS)
    return _population(v, e, vpath, epath, source=f"{vpath.name} + {epath.name}")


def _load_graphml(path: Path) -> Population:
    import networkx as nx  # small graphs only: field data

    try:
        g = nx.read_graphml(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as err:  # networkx raises several parser errors
        raise InputError(f"{path}: not a readable GraphML file ({err})") from None
    rows = []
    for node, data in g.nodes(data=True):
        unknown = [k for k in data if k not in VILLAGER_COLUMNS]
        if unknown:
            raise InputError(f"{path}: node {node}: unknown attribute(s) {', '.join(unknown)}; "
                             f"allowed: {', '.join(VILLAGER_COLUMNS[1:])}")
        rows.append({"id": str(node), **{k: str(v) for k, v in data.items()}})
    villagers = pd.DataFrame(rows).fillna("")
    missing = [c for c in ("township", "village") if c not in villagers]
    if missing:
        raise InputError(f"{path}: nodes lack attribute(s) {', '.join(missing)}")
    if "elder" in villagers:
        villagers["elder"] = villagers["elder"].replace({"True": "true", "False": "false"})
    edges = pd.DataFrame([(str(a), str(b)) for a, b in g.edges()], columns=["source", "target"],
                         dtype=str)
    ids = villagers["id"].tolist()

    def node_place(row: int, attribute: str) -> str:
        return f"node {ids[row][:80]!r}, attribute {attribute}"

    def edge_place(row: int, end: str) -> str:
        return f"edge {row + 1}, its {end}"

    return _population(villagers, edges, path, path, source=path.name, place=node_place,
                       edge_place=edge_place)
