"""The lever table: what each governance instrument does, with confidence intervals.

A trainer asks "what if we used X?". For every instrument and lever in
[`LEVERS`][ruralgov.study.levers.LEVERS] the baseline county is run with the lever moved
from its baseline value to a telling one, on the same seeds as the baseline itself (paired),
and the effect on compliance, petitions, escalation, protest and legitimacy over the later
years is the mean paired difference with a 95 % BCa bootstrap interval
(``scipy.stats.bootstrap``). ``make levers`` writes ``docs/levers.md`` and
``results/levers/levers.csv``.

Runs go to a local process pool (workers die with their parent). An effect is one lever moved
at the baseline: other levers, other counties and interactions are what the sweeps are for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ruralgov.model.params import REGISTRY
from ruralgov.study.evaluator import evaluator

__all__ = ["Lever", "LEVERS", "OUTCOMES", "lever_table", "markdown", "document"]


@dataclass(frozen=True)
class Lever:
    """One instrument or lever: its name, the instrument it stands for, the settings that
    switch it on, and the context both it and its baseline run in."""

    name: str
    instrument: str
    settings: dict[str, Any] = field(default_factory=dict)
    #: settings both the lever's runs and its baseline's have (e.g. a campaign, for
    #: compensation): the effect is measured against the baseline county with them
    context: dict[str, Any] = field(default_factory=dict)


LEVERS: tuple[Lever, ...] = (
    Lever("coordination 0.5 → 0.9", "部门协同 coordination between departments",
          {"coordination": 0.9}),
    Lever("one_window 0 → 1", "一门受理 one-window acceptance", {"one_window": 1.0}),
    Lever("joint_enforcement 0 → 1", "联合执法 joint enforcement", {"joint_enforcement": 1.0}),
    Lever("grid_management 0 → 1", "网格化管理 grid management", {"grid_management": 1.0}),
    Lever("bureaus 0 → 2", "大部门体制 big-department reform", {"bureaus": 2}),
    Lever("n_departments 4 → 8", "条块分割 more departments", {"n_departments": 8}),
    Lever("responsiveness 0.5 → 0.9", "回应性 responsiveness", {"responsiveness": 0.9}),
    Lever("township_capacity 5 → 10", "信访接待 township case capacity",
          {"township_capacity": 10.0}),
    Lever("county_capacity 0.5 → 2", "county answers escalated petitions",
          {"county_capacity": 2.0}),
    Lever("priority_handling 0 → 1", "领导包案 leaders in charge of long cases",
          {"priority_handling": 1.0}),
    Lever("suppression 0.2 → 0.8", "截访, 劝返 suppression of petitions",
          {"suppression": 0.8}),
    Lever("suppression 0.2 → 0", "no suppression", {"suppression": 0.0}),
    Lever("key_person_management 0 → 0.8", "四色管理 key-person management",
          {"key_person_management": 0.8}),
    Lever("evaluation_stability 0.5 → 1", "一票否决 stability veto in cadre evaluation",
          {"evaluation_stability": 1.0}),
    Lever("fiscal_dependence 0 → 0.8", "悬浮 fiscal marginalisation of townships",
          {"fiscal_dependence": 0.8}),
    Lever("self_interest 0.3 → 0.7", "乡镇自利 township self-interest", {"self_interest": 0.7}),
    Lever("discretion 0.5 → 0.9", "弹性 room to adapt rules", {"discretion": 0.9}),
    Lever("enforcement 0.2 → 0.4", "执法 stronger enforcement", {"enforcement": 0.4}),
    Lever("graduated enforcement off", "劝阻→警告→处罚 skipped: sanction at once",
          {"mech_graduated": False}),
    Lever("social_credit 0 → 1", "社会信誉 social credit", {"social_credit": 1.0}),
    Lever("service_coverage 0.3 → 0.8", "公共服务均等化 public services",
          {"service_coverage": 0.8}),
    Lever("assistance_review 12 → 3", "低保动态管理 reviewing the rolls more often",
          {"assistance_review": 3}),
    Lever("targeting_accuracy 0.9 → 1", "应保尽保、应退尽退 accurate targeting",
          {"targeting_accuracy": 1.0}),
    Lever("participation 0.1 → 0.4", "村民自治 deliberation and self-governance",
          {"participation": 0.4}),
    Lever("elections 0.3 → 0.9", "换届选举 village cadres answering to villagers",
          {"elections": 0.9}),
    Lever("village_compact 0 → 0.5", "村规民约 a compact at the start", {"village_compact": 0.5}),
    Lever("compact_rate 0 → 0.2", "村规民约 compacts as an ongoing process",
          {"compact_rate": 0.2}),
    Lever("cooptation 0 → 0.5", "党员联户 co-opting elders", {"cooptation": 0.5}),
    Lever("official_misconduct 0 → 0.3", "官员失范 officials' visible misconduct",
          {"official_misconduct": 0.3}),
    Lever("inspection_rate 0.05 → 0.2", "隐患排查 more inspection (measures, changes nothing)",
          {"inspection_rate": 0.2}),
    Lever("state answer to protest off", "concession or repression → detention only",
          {"mech_state_response": False}),
    Lever("concession_k 0.1 → 1", "a state that concedes readily", {"concession_k": 1.0}),
    Lever(f"trust_upper_initial {REGISTRY['trust_upper_initial'].default:g} → 0.7",
          "信任 villagers start out trusting higher levels more than the township "
          "(hierarchical trust)", {"trust_upper_initial": 0.7}),
    Lever("campaign on", "三改一拆, 拆违 a demolition campaign (steps 51–100)",
          {"campaign": True}),
    Lever("compensation 0 → 0.8", "征地补偿 compensation, in a campaign",
          {"compensation": 0.8}, context={"campaign": True}),
)
"""Every instrument of docs/ODD.md §8.2 and the headline levers, moved one at a time from the
baseline county's value."""

#: Outcome columns of the series, averaged over the later window.
OUTCOMES = ("compliance", "petitions_new", "petitions_escalated", "protesters",
            "legitimacy_mean", "trust_local_mean")
COUNTS = frozenset({"petitions_new", "petitions_escalated", "protesters"})
"""Outcomes that are counts: the table gives them per 1,000 villagers a year."""


def _run(task: tuple[dict, int, int, tuple[int, int]]) -> dict[str, float]:
    from ruralgov.study.runner import run_scenario

    overrides, seed, steps, (a, b) = task
    series = run_scenario("baseline", seed=seed, steps=steps, overrides=overrides,
                          collect_detail=False).series
    window = series[series["step"].between(a, b)]
    # counts as yearly rates per 1,000 villagers (the unit of published figures)
    per_1000_year = 12_000.0 / window["villagers"]
    return {m: float((window[m] * per_1000_year).mean() if m in COUNTS else window[m].mean())
            for m in OUTCOMES}


def _interval(d: np.ndarray, seed: int) -> tuple[float, float]:
    if np.allclose(d, d[0]):
        return float(d[0]), float(d[0])
    res = stats.bootstrap((d,), np.mean, confidence_level=0.95, n_resamples=2000,
                          method="BCa", rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def lever_table(levers: Iterable[Lever] = LEVERS, seeds: Iterable[int] = range(10),
                steps: int = 96, window: tuple[int, int] | None = None,
                base: dict[str, Any] | None = None, workers: int | None = None,
                progress: Callable[[int, int], None] | None = None,
                scheduler: str | None = None) -> pd.DataFrame:
    """One row per lever and outcome: the mean paired difference (lever minus baseline over
    ``seeds``) with its 95 % BCa bootstrap interval, the baseline mean, and whether the
    interval excludes 0. ``window`` (default the second half of ``steps``) is averaged;
    ``base`` adds settings to every run (e.g. a smaller county for a quick table); the runs go
    to [`evaluator`][ruralgov.study.evaluator.evaluator] (``workers`` local processes, or the
    Dask cluster at ``scheduler``)."""
    levers, seeds = tuple(levers), tuple(seeds)
    window = window or (steps // 2 + 1, steps)
    base = dict(base or {})
    contexts = list(dict.fromkeys(_key(lv.context) for lv in levers)) or [()]
    settings = ([{**base, **dict(c)} for c in contexts]
                + [{**base, **lv.context, **lv.settings} for lv in levers])
    tasks = [(s, seed, steps, window) for s in settings for seed in seeds]
    with evaluator(workers=workers, scheduler=scheduler, pending=len(tasks)) as ev:
        results = ev.map(_run, tasks, progress=progress, chunksize=4)
    n, nc = len(seeds), len(contexts)
    baselines = {c: pd.DataFrame(results[i * n:(i + 1) * n]) for i, c in enumerate(contexts)}
    rows = []
    for j, lv in enumerate(levers):
        baseline = baselines[_key(lv.context)]
        moved = pd.DataFrame(results[(nc + j) * n:(nc + j + 1) * n])
        for m in OUTCOMES:
            d = (moved[m] - baseline[m]).to_numpy()
            low, high = _interval(d, seed=j)
            rows.append({"lever": lv.name, "instrument": lv.instrument, "outcome": m,
                         "context": ", ".join(f"{k}={v}" for k, v in lv.context.items()),
                         "baseline": float(baseline[m].mean()), "effect": float(d.mean()),
                         "low": low, "high": high, "seeds": n,
                         "clear": bool(low > 0 or high < 0)})
    return pd.DataFrame(rows)


def _key(context: dict[str, Any]) -> tuple:
    return tuple(sorted(context.items()))


def _cell(row: pd.Series) -> str:
    def f(x: float) -> str:
        return f"{x:+.3f}" if abs(row["baseline"]) < 5 else f"{x:+.1f}"

    text = f"{f(row['effect'])} [{f(row['low'])}, {f(row['high'])}]"
    return f"**{text}**" if row["clear"] else text


def markdown(table: pd.DataFrame) -> str:
    """Levers as rows, outcomes as columns: effect [95 % interval], bold where the interval
    excludes 0."""
    header = "| lever | instrument | " + " | ".join(f"`{m}`" for m in OUTCOMES) + " |"
    rows = [header, "|---|---|" + "---|" * len(OUTCOMES)]
    for lever, g in table.groupby("lever", sort=False):
        cells = [_cell(g[g["outcome"] == m].iloc[0]) for m in OUTCOMES]
        context = g["context"].iloc[0]
        where = f" (against the baseline with {context})" if context else ""
        rows.append(f"| {lever} | {g['instrument'].iloc[0]}{where} | " + " | ".join(cells)
                    + " |")
    base = (table[table["context"] == ""].drop_duplicates("outcome")
            .set_index("outcome")["baseline"])
    rows.append("| *baseline mean* | | " + " | ".join(
        f"*{base[m]:.3f}*" if abs(base[m]) < 5 else f"*{base[m]:.1f}*" for m in OUTCOMES)
        + " |")
    return "\n".join(rows)


def _villagers() -> str:
    from ruralgov.model.params import REGISTRY

    return f"{REGISTRY['n_villagers'].default:,}"


def document(table: pd.DataFrame, steps: int, window: tuple[int, int]) -> str:
    """docs/levers.md."""
    n = int(table["seeds"].iloc[0])
    return f"""# What if we used X? The lever table

<!-- generated by `make levers` (ruralgov levers --out docs/levers.md); do not edit -->

Each row moves one instrument or lever of the baseline county ({_villagers()} villagers,
calibrated: docs/calibration.md; docs/ODD.md §8.2) from its baseline value and
runs {steps} steps (months) on seeds 0–{n - 1}, the same seeds as the baseline itself (a
row that needs a context, such as compensation a campaign, is compared with the baseline
county in that context). Each cell is the effect on the outcome's mean over
steps {window[0]}–{window[1]} — the lever's run minus the baseline's,
averaged over the {n} paired seeds — with a 95 % BCa bootstrap interval
(`scipy.stats.bootstrap`); **bold** where the interval excludes 0. Counts (new petitions,
petitions reaching the county, protesters) are yearly rates per 1,000 villagers (protesters:
villager-months in a protest); compliance, legitimacy and trust are shares and means in
[0, 1].

Read it as "at the baseline, moving this one lever does this": effects can differ in another
county and levers interact — that is what the sweeps (`experiments/`) are for. An instrument
whose effect is not what its advocates expect is reported as the model finds it.

{markdown(table)}
"""
