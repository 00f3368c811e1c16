"""Stories that hold: each scenario's ``watch`` claims checked over seeds.

A scenario's story tells a trainer what to watch ("conflict exposure higher than in the
baseline by step 24"); its ``watch`` list says the same in a form that can be checked
([`Watch`][ruralgov.io.scenario.Watch]). [`check_story`][ruralgov.study.stories.check_story]
runs the scenario (and the scenario it is compared with) on the same seeds and reports, for
every claim, the mean difference and how many seeds agree. A claim *holds* when the mean
difference has the claimed sign and at least ``agree`` of the seeds show it (8 of 10 by
default: a one-sided sign test at about 5 %). ``make stories`` writes the table to
docs/stories.md; the test suite fails if a story claims what the model does not do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ruralgov.io.scenario import Scenario, Watch, list_scenarios, load_scenario
from ruralgov.study.runner import run_scenario

__all__ = ["ClaimResult", "claim_difference", "check_story", "check_stories", "markdown",
           "document"]

#: Seeds a claim is checked on, and how many of them must agree.
SEEDS = tuple(range(10))
AGREE = 8


@dataclass(frozen=True)
class ClaimResult:
    """One claim checked: the mean difference (this minus the comparison, in the claimed
    direction's terms: positive supports the claim) and how many seeds agree."""

    scenario: str
    claim: str
    difference: float
    agree: int
    seeds: int
    holds: bool


def _window(series: pd.DataFrame, steps: tuple[int, int], measure: str) -> float:
    a, b = steps
    return float(series.loc[series["step"].between(a, b), measure].mean())


def claim_difference(claim: Watch, mine: pd.DataFrame, other: pd.DataFrame | None = None
                     ) -> float:
    """One run's evidence for a claim, in the claimed direction (positive supports it): the
    mean of the measure over the claim's window in ``mine`` (a run's series) minus its mean
    over the same window in ``other`` (the compared scenario's run on the same seed), or, for
    ``rises``/``falls``, minus its mean over the ``from`` window of ``mine``. A window a
    series has not reached counts what it has (NaN before its first step)."""
    mean = _window(mine, claim.steps, claim.measure)
    if claim.than is not None:
        if other is None:
            raise ValueError(f"{claim.describe()}: needs the run of {claim.than!r}")
        base = _window(other, claim.steps, claim.measure)
    else:
        base = _window(mine, claim.start, claim.measure)
    return (mean - base) * claim.sign


def _series(scenario: Scenario, seed: int, steps: int) -> pd.DataFrame:
    return run_scenario(scenario, seed=seed, steps=steps, collect_detail=False).series


def check_story(scenario: Scenario | str, seeds: Iterable[int] = SEEDS,
                agree: int = AGREE) -> list[ClaimResult]:
    """Check every ``watch`` claim of a scenario over ``seeds`` (paired by seed)."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    seeds = tuple(seeds)
    out = []
    cache: dict[tuple[str, int], pd.DataFrame] = {}
    horizon = max((w.last_step for w in scenario.watch), default=0)

    def series(sc: Scenario, seed: int) -> pd.DataFrame:
        key = (sc.name, seed)
        if key not in cache:
            cache[key] = _series(sc, seed, horizon)
        return cache[key]

    for w in scenario.watch:
        other = load_scenario(w.than) if w.than else None
        d = np.asarray([claim_difference(w, series(scenario, seed),
                                         series(other, seed) if other else None)
                        for seed in seeds])
        n_agree = int((d > 0).sum())
        out.append(ClaimResult(scenario.name, w.describe(), float(np.nanmean(d)), n_agree,
                               len(seeds), bool(np.nanmean(d) > 0 and n_agree >= agree)))
    return out


def check_stories(names: Iterable[str] | None = None, seeds: Iterable[int] = SEEDS,
                  agree: int = AGREE) -> list[ClaimResult]:
    """Check the claims of the named scenarios (default: every scenario found)."""
    scenarios = ([load_scenario(n) for n in names] if names is not None
                 else list_scenarios())
    return [r for sc in scenarios for r in check_story(sc, seeds, agree)]


def markdown(results: list[ClaimResult]) -> str:
    """The results as a Markdown table (docs/stories.md)."""
    rows = ["| scenario | claim | mean difference, in the claimed direction | seeds agreeing "
            "| holds |", "|---|---|---|---|---|"]
    for r in results:
        rows.append(f"| `{r.scenario}` | {r.claim} | {r.difference:+.3g} | "
                    f"{r.agree} of {r.seeds} | {'yes' if r.holds else '**no**'} |")
    return "\n".join(rows)


def document(table: str, n_seeds: int) -> str:
    """docs/stories.md: what each scenario's story claims and whether the model does it."""
    return f"""# Do the stories hold?

<!-- generated by `make stories` (ruralgov stories --out docs/stories.md); do not edit -->

Each scenario's story tells a trainer what to watch. Its `watch` list says the same as claims
that can be checked: the scenario is run on seeds 0..{n_seeds - 1} (and, for a comparison, the
other scenario on the same seeds), each claim's window means are compared seed by seed, and a
claim *holds* when the mean difference has the claimed sign and at least
{round(n_seeds * AGREE / len(SEEDS))} of the {n_seeds} seeds agree. The test suite checks the
same on every change, so a story cannot claim what the model does not do.

{table}
"""
