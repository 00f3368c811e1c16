"""Golden regression: results change only on purpose.

Hashes of the series, every detail table and the final state of the model for a set of
configurations x seeds, of the smoke sweep's runs table and (in CI, after ``make paper-quick``)
of the quick profile's verdicts, are pinned in ``tests/golden/hashes.json``. A refactoring must
leave every hash unchanged. A change that alters results on purpose regenerates them in the same
commit, and its message says why::

    RURALGOV_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

(the quick profile's verdicts: ``make paper-quick`` first, then the same command with
``RURALGOV_GOLDEN_VERDICTS=results/paper-quick/verdicts.json``).

The hashes hold for the exact versions of ``constraints.txt`` (what ``make dev`` installs): a
numerical library's new release may change the last bits of a result, and a statistic's
verdict with them. A mismatch says which installed versions differ from those.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).with_name("golden") / "hashes.json"
REGEN = os.environ.get("RURALGOV_REGEN_GOLDEN") == "1"
SEEDS = (3, 11)
SMALL = dict(n_villagers=600, n_townships=2, villages_per_township=3)

#: name -> (scenario, parameters, steps). Small counties, long enough for every submodel to act.
CONFIGS: dict[str, tuple[str, dict, int]] = {
    "baseline": ("baseline", SMALL, 40),
    "baseline_default_size": ("baseline", {}, 15),
    "events": ("baseline", {**SMALL, "campaign": True, "campaign_start": 5,
                            "campaign_duration": 10, "withdrawal_step": 20, "scandal": True,
                            "scandal_start": 8, "scandal_duration": 6}, 35),
    "random_sequential": ("baseline", {**SMALL, "random_sequential": True}, 30),
    "mechanisms_off": ("baseline", {**SMALL, **{m: False for m in (
        "mech_legitimacy", "mech_enforcement", "mech_graduated", "mech_informal",
        "mech_fragmentation", "mech_transmission", "mech_discretion", "mech_contention",
        "mech_services", "mech_participation", "mech_habit")}}, 30),
    "high_grievance": ("baseline", {**SMALL, "hardship_mean": 0.8, "legitimacy_initial": 0.25,
                                    "protest_threshold": 0.05}, 40),
    "field_data": ("field", {}, 30),
    "large_blocks": ("baseline", {"n_villagers": 70_000, "n_townships": 4,
                                  "villages_per_township": 5}, 3),
    **{name: (name, SMALL, 40) for name in (
        "demolition_campaign", "flexible_discretion", "fragmented", "integrated",
        "lineage_stronghold", "responsive", "rigid_topdown", "suspended_township")},
}


# ------------------------------------------------------------------------- hashing
def _column_bytes(values: pd.Series) -> bytes:
    """A column's values as bytes that do not depend on the pandas version's dtype choices:
    numbers and booleans as float64 (NaN canonical), anything else as text."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return "\x1f".join(map(str, values.tolist())).encode()
    arr = np.where(np.isnan(arr), np.nan, arr)
    return np.ascontiguousarray(arr).tobytes()


def frame_digest(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(repr((list(map(str, df.columns)), len(df))).encode())
    for c in df.columns:
        h.update(str(c).encode())
        h.update(_column_bytes(df[c]))
    return h.hexdigest()


def array_digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(np.asarray(arrays[name]))
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def final_state(model) -> dict[str, np.ndarray]:
    """The state variables of ODD section 2 after the last step."""
    from ruralgov.model.county import state_arrays

    return state_arrays(model)


# ------------------------------------------------------------------------- runs
def _field_population(tmp: Path):
    from ruralgov.io.fielddata import load_population

    rng = np.random.default_rng(2015)
    n = 240
    ids = [f"v{i:03d}" for i in range(n)]
    village = rng.integers(0, 6, n)
    villagers = pd.DataFrame({
        "id": ids, "township": [f"T{v // 3}" for v in village],
        "village": [f"V{v}" for v in village], "lineage": [f"L{v}-{i % 2}" for i, v in
                                                           enumerate(village)],
        "elder": (rng.random(n) < 0.05).astype(int),
        "hardship": rng.random(n).round(3), "legitimacy": rng.random(n).round(3)})
    src = rng.integers(0, n, 900)
    dst = rng.integers(0, n, 900)
    keep = src != dst
    edges = pd.DataFrame({"source": [ids[i] for i in src[keep]],
                          "target": [ids[j] for j in dst[keep]]})
    villagers.to_csv(tmp / "villagers.csv", index=False)
    edges.to_csv(tmp / "edges.csv", index=False)
    return load_population(tmp / "villagers.csv", tmp / "edges.csv")


def _run(name: str, seed: int, tmp: Path, defaults: dict | None = None,
         leave_out: tuple[str, ...] = ()) -> dict[str, str]:
    """One configuration's hashes; ``defaults`` stand in for the registry's defaults (what
    neither the scenario nor the configuration sets); the state arrays named in ``leave_out``
    are not hashed (they must then hold their initial value: checked here)."""
    from ruralgov.io.scenario import load_scenario
    from ruralgov.model import RuralGovernanceModel

    scenario, params, steps = CONFIGS[name]
    population = None
    if scenario == "field":
        population = _field_population(tmp)
        resolved = load_scenario("baseline").resolved({})
    else:
        sc = load_scenario(scenario)
        resolved = sc.resolved(params)
        resolved.update({k: v for k, v in (defaults or {}).items()
                         if k not in sc.parameters and k not in params})
    model = RuralGovernanceModel(seed=seed, population=population, **resolved)
    for _ in range(steps):
        model.step()
    out = {"series": frame_digest(model.series())}
    for table in ("villages", "townships", "departments", "rules"):
        out[table] = frame_digest(model.detail(table))
    state = final_state(model)
    for name in leave_out:  # added after the hashes were pinned: untouched in those runs
        assert (state.pop(name) == getattr(RuralGovernanceModel(
            seed=seed, population=population, **resolved).villagers, name)).all(), name
    out["state"] = array_digest(state)
    return out


# ------------------------------------------------------------------------- store
def _load() -> dict:
    return json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}


def _check(key: str, got) -> None:
    stored = _load()
    if REGEN:
        stored[key] = got
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
        return
    assert key in stored, f"no golden hash for {key}: regenerate (see the module docstring)"
    assert got == stored[key], (
        f"{key}: results changed. If on purpose, regenerate the hashes in the same commit and "
        f"say why (see the module docstring). Stored {stored[key]}, got {got}."
        + (f" Installed versions differ from constraints.txt: {'; '.join(drift)}"
           if (drift := _drift()) else ""))


CONSTRAINTS = ROOT / "constraints.txt"
#: the libraries whose arithmetic the results depend on
NUMERIC = ("numpy", "scipy", "pandas", "networkx", "mesa", "pyarrow", "statsmodels",
           "salib", "scikit-learn", "pyabc")


def _pins() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def _drift() -> list[str]:
    """Installed versions of the numerical libraries that differ from constraints.txt."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name, want in _pins().items():
        if name in NUMERIC:
            try:
                have = version(name)
            except PackageNotFoundError:
                have = "not installed"
            if have != want:
                out.append(f"{name} {have} (pinned {want})")
    return out


def test_constraints_pin_every_numerical_library():
    """The hashes are only as stable as the versions behind them: every library whose
    arithmetic the results depend on is pinned to one version."""
    assert set(NUMERIC) <= set(_pins()), sorted(set(NUMERIC) - set(_pins()))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_model_outputs_unchanged(name, seed, tmp_path):
    _check(f"model/{name}/seed{seed}", _run(name, seed, tmp_path))


UNCALIBRATED_HASHES = Path(__file__).with_name("golden") / "uncalibrated.json"


@pytest.mark.parametrize("key", sorted(json.loads(UNCALIBRATED_HASHES.read_text())))
def test_the_uncalibrated_county_reproduces_the_results_made_before_calibration(key, tmp_path):
    """The calibrated county changed defaults only: with ``UNCALIBRATED`` as the defaults the
    model reproduces, bit for bit, the hashes pinned before the change (never regenerated)."""
    from ruralgov.model.params import UNCALIBRATED

    _, name, seed = key.split("/")
    want = json.loads(UNCALIBRATED_HASHES.read_text())[key]
    assert _run(name, int(seed.removeprefix("seed")), tmp_path, UNCALIBRATED,
                leave_out=ADDED_SINCE) == want


#: State arrays added after tests/golden/uncalibrated.json was pinned, by mechanisms whose
#: first forms leave them at their initial values (matter_window = 0: no matter is recorded;
#: the diffuse support is drawn once and never changes).
ADDED_SINCE = ("matter_until", "support")


def test_smoke_sweep_runs_table_unchanged(tmp_path):
    from ruralgov.io.results import read_runs, read_series
    from ruralgov.study.experiment import load_experiment
    from ruralgov.study.sweep import run_sweep

    out = tmp_path / "smoke"
    run_sweep(load_experiment(ROOT / "experiments" / "smoke.yaml"), out, workers=1,
              progress=False)
    runs = read_runs(out).drop(columns=["wall_s"]).sort_values("run_id").reset_index(drop=True)
    series = read_series(out).sort_values(["run_id", "step"]).reset_index(drop=True)
    _check("sweep/smoke", {"runs": frame_digest(runs), "series": frame_digest(series)})


def verdicts_digest(path: Path) -> str:
    """The quick profile's verdicts: every number, verdict and name, without what changes from
    run to run or with the wording of a file (times, versions, git revision, paths, claims)."""
    names = {"id", "verdict", "test", "measure", "kind", "name", "scheme", "experiment"}

    def clean(x, key=None):
        if isinstance(x, dict):
            return {k: c for k, v in x.items()
                    if k not in ("created_utc", "versions", "git", "definition_sha256")
                    and (c := clean(v, k)) is not None}
        if isinstance(x, list):
            return [clean(v) for v in x]
        if isinstance(x, str):
            return x if key in names else None
        return x

    data = clean(json.loads(path.read_text()))
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@pytest.mark.skipif(not os.environ.get("RURALGOV_GOLDEN_VERDICTS"),
                    reason="needs the quick profile's verdicts (CI runs it after make "
                           "paper-quick, with RURALGOV_GOLDEN_VERDICTS set)")
def test_quick_profile_verdicts_unchanged():
    _check("paper-quick/verdicts", verdicts_digest(Path(os.environ["RURALGOV_GOLDEN_VERDICTS"])))


# ------------------------------------------------------------------------- first forms
FIRST = Path(__file__).with_name("golden") / "first_forms.json"


@pytest.mark.parametrize("name", sorted(json.loads(FIRST.read_text())))
def test_first_forms_reproduce_the_first_generation(name):
    """With ``FIRST_FORMS`` (every structural change of the second model generation turned back
    into the first form), the model reproduces, bit for bit, the first generation's results on
    every column, table and state array the first generation had. Pinned in
    ``tests/golden/first_forms.json`` when the first generation was current; never
    regenerated. The first generation's defaults were the county before calibration
    (``UNCALIBRATED``)."""
    from ruralgov.model import RuralGovernanceModel
    from ruralgov.model.params import FIRST_FORMS, UNCALIBRATED

    want = json.loads(FIRST.read_text())[name]
    model = RuralGovernanceModel(seed=want["seed"],
                                 **{**UNCALIBRATED, **want["params"], **FIRST_FORMS})
    for _ in range(want["steps"]):
        model.step()
    assert frame_digest(model.series()[want["series_columns"]]) == want["series"], "series"
    for table in ("villages", "townships", "departments", "rules"):
        got = frame_digest(model.detail(table)[want[f"{table}_columns"]])
        assert got == want[table], table
    state = final_state(model)
    assert array_digest({k: state[k] for k in want["state_arrays"]}) == want["state"], "state"
