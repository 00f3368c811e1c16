"""Units a person can read: what one villager and one step stand for, and counts as yearly
rates.

One villager stands for one **adult rural resident** (not a household); one step is one
**month**. A count per step is read as a rate per 1,000 villagers a year (per 100,000 for rare
events such as protest), the form in which published figures are given (petitions per 1,000
residents a year, mass incidents per 100,000): ``count per step / villagers × per × 12``.
[`RATES`][ruralgov.model.units.RATES] lists the counts of the per-step series that have a rate,
and each one's ``per``; [`summarise`][ruralgov.model.measures.summarise] gives each as
``<count>_per_1000_year`` (or ``_per_100k_year``) over the final window, beside the count.
"""

from __future__ import annotations

__all__ = ["VILLAGER", "STEP", "STEPS_PER_YEAR", "RATES", "rate_name", "per_year",
           "rate_label"]

VILLAGER = "adult rural resident"
"""What one villager stands for."""
STEP = "month"
"""What one step stands for."""
STEPS_PER_YEAR = 12

RATES: dict[str, int] = {
    "petitions_new": 1000, "petitions_collective": 1000, "petitions_individual": 1000,
    "petitions_over_head": 1000, "petitions_escalated": 1000, "petitions_answered": 1000,
    "petitions_suppressed": 1000, "petitions_abandoned": 1000, "county_answered": 1000,
    "persuasions": 1000, "warnings": 1000, "sanctions": 1000, "unfair_hits": 1000,
    "protesters": 1000, "detained": 1000, "disputes": 1000, "disputes_formal": 1000,
    "disputes_resolved_formally": 1000,
    "protest_events": 100_000, "protest_episodes": 100_000, "concessions": 100_000,
    "repressions": 100_000,
}
"""Count column of the series -> the population its yearly rate is per (1,000, or 100,000 for
rare events)."""


def rate_name(measure: str) -> str:
    """The summary column of a count's yearly rate: ``<measure>_per_1000_year`` or
    ``<measure>_per_100k_year``."""
    return f"{measure}_per_{'1000' if RATES[measure] == 1000 else '100k'}_year"


def per_year(count_per_step, villagers, per: int = 1000):
    """A count per step (a number or an array) as a yearly rate per ``per`` villagers."""
    return count_per_step / villagers * per * STEPS_PER_YEAR


def rate_label(measure: str, lang: str = "en") -> str:
    """The unit of a count's rate, for a table or a figure's axis."""
    per = RATES[measure]
    if lang == "zh":
        return f"每{'千' if per == 1000 else '十万'}名村民每年"
    return f"per {per:,} villagers a year"
