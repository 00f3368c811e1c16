"""Per-run summaries of the per-step series (docs/ODD.md, design concept "observation").

[`summarise`][ruralgov.model.measures.summarise] turns one run's series into one row of
run-level measures: means over the final quarter, peaks, totals and summaries around events."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ruralgov.model.observe import SERIES
from ruralgov.model.units import RATES, per_year, rate_name

__all__ = ["summarise", "SERIES_MEASURES", "MEAN_MEASURES", "PEAK_MEASURES", "TOTAL_MEASURES",
           "SUMMARY_MEASURES", "CAMPAIGN_MEASURES"]

#: The columns of the per-step series (``model.series()``), besides ``step``: the observer's
#: reporters ([`SERIES`][ruralgov.model.observe.SERIES]), which say how each is computed; the
#: last one only with a campaign.
SERIES_MEASURES = tuple(r.name for r in SERIES if r.name != "step")

#: Averaged over the last quarter of the run ("<name>_final").
MEAN_MEASURES = (
    "compliance", "evasion", "voluntary_share", "compliance_reported", "compliance_inspected",
    "reporting_gap", "legitimacy_mean", "legitimacy_sd", "hierarchical_trust", "grievance_mean",
    "norm_attachment_mean", "substitution_index", "implementation_fidelity", "capacity_use",
    "pressure_mean", "petitions_new", "petitions_collective", "petitions_escalated",
    "petition_backlog", "response_time", "protesters", "protest_events", "sanctions",
    "conflict_exposure", "trust_local_mean", "trust_upper_mean", "trust_local_share",
    "trust_upper_share", "villages_petitioning",
)
#: Their maximum over the run ("<name>_peak").
PEAK_MEASURES = ("protesters", "protest_max_size", "petition_backlog", "petitions_escalated",
                 "county_backlog", "petitions_collective")
#: Their sum over the run ("<name>_total").
TOTAL_MEASURES = ("petitions_new", "petitions_collective", "petitions_escalated",
                  "petitions_suppressed", "petitions_abandoned", "protest_events",
                  "protest_episodes", "detained", "persuasions", "warnings", "sanctions",
                  "unfair_hits")

CAMPAIGN_MEASURES = ("protesters", "petitions_collective", "petitions_new", "grievance_mean")
"""The measures followed in event time around a campaign (summarise: ``<m>_campaign_*``)."""


#: Every per-run summary that summarise() can give (some only when their event happens).
SUMMARY_MEASURES = frozenset(
    {f"{m}_final" for m in MEAN_MEASURES} | {f"{m}_final_drift" for m in MEAN_MEASURES}
    | {f"{m}_early" for m in MEAN_MEASURES}
    | {f"{m}_peak" for m in PEAK_MEASURES}
    | {f"{m}_total" for m in TOTAL_MEASURES}
    | {"first_collective_step", "compliance_campaign_mean", "compliance_before_withdrawal",
       "voluntary_share_before_withdrawal", "compliance_drop_withdrawal"}
    | {rate_name(m) for m in RATES}
    | {f"{m}_{s}" for m in ("legitimacy_mean", "compliance")
       for s in ("scandal_drop", "fall_half_steps", "recover_half_steps", "hysteresis_steps",
                 "recovered", "scandal_persist")}
    | {f"{m}_campaign_{s}" for m in CAMPAIGN_MEASURES
       for s in ("pretrend", "rise", "after", "excess")})


def summarise(series: pd.DataFrame, final_share: float = 0.25,
              extra: tuple[str, ...] = ()) -> dict[str, float]:
    """One row of run-level measures, fit for sweeps (``extra``: the user's reporters of the
    series, summarised as the mean measures are: ``_final``, ``_final_drift``, ``_early``).

    * ``<m>_final``: mean of measure m over the last ``final_share`` of the steps, and
      ``<m>_final_drift``: the mean over that window's second half minus its first (is the
      window stationary?); ``<m>_early``: the mean over the first ``final_share`` of the
      steps (with the final window, an effect now against an effect later);
    * ``<m>_peak``: maximum; ``<m>_total``: sum over the run;
    * ``<count>_per_1000_year`` (``_per_100k_year`` for protest events): each count of
      [`RATES`][ruralgov.model.units.RATES] over the final window as a yearly rate per 1,000
      (100,000) villagers, from the series' ``villagers`` column (one step is a month);
    * ``first_collective_step``: first step with a collective petition or a protest event
      (NaN if none);
    * ``compliance_campaign_mean``: mean campaign compliance while it ran (if any);
    * around a withdrawal of enforcement (``withdrawal_step``):
      ``compliance_before_withdrawal`` and ``voluntary_share_before_withdrawal`` (means over
      the [`EVENT_WINDOW`][ruralgov.model.measures.EVENT_WINDOW] steps before it) and
      ``compliance_drop_withdrawal`` (before minus final);
    * around a scandal, for m in legitimacy_mean and compliance: ``<m>_scandal_drop`` (mean
      over the [`EVENT_WINDOW`][ruralgov.model.measures.EVENT_WINDOW] steps before it minus the
      lowest value from its start on), ``<m>_fall_half_steps`` (steps from its start until
      half the drop is lost),
      ``<m>_recover_half_steps`` (steps from the scandal's end until half the drop is
      regained; if it is not within the run, the steps left — a lower bound — and
      ``<m>_recovered`` is 0), ``<m>_hysteresis_steps`` (recovery minus fall: both clocks start
      when their cause does) and ``<m>_scandal_persist`` (the share of the drop still missing
      over the final quarter of the run).
    * around a campaign (an event study on the series), for m in
      [`CAMPAIGN_MEASURES`][ruralgov.model.measures.CAMPAIGN_MEASURES], each against the
      level before it (the mean over the
      [`EVENT_WINDOW`][ruralgov.model.measures.EVENT_WINDOW] steps before its start):
      ``<m>_campaign_rise`` (the mean while it is in force minus that level),
      ``<m>_campaign_after`` (the mean over the rest of the run after it ends, minus that
      level), ``<m>_campaign_excess`` (the mean while in force minus the mean after: a spike
      is a rise that does not last) and ``<m>_campaign_pretrend`` (that level minus the mean
      over the window before it: a placebo, near 0 if nothing was already moving).
    """
    n = len(series)
    if n == 0:
        return {"steps": 0}
    col = _columns(series)
    k = max(1, math.ceil(n * final_share))
    out: dict[str, float] = {"steps": int(series["step"].iloc[-1])}
    for m in (*MEAN_MEASURES, *extra):
        if m in col:
            out[f"{m}_final"] = _mean(col[m][n - k:])
            out[f"{m}_final_drift"] = _drift(col[m][n - k:])
            out[f"{m}_early"] = _mean(col[m][:k])
    for m in PEAK_MEASURES:
        if m in col:
            out[f"{m}_peak"] = (float(np.nanmax(col[m])) if not np.isnan(col[m]).all()
                                else np.nan)
    for m in TOTAL_MEASURES:
        if m in col:
            out[f"{m}_total"] = float(np.nansum(col[m]))
    if "villagers" in col:  # counts as yearly rates over the final window (ruralgov.model.units)
        villagers = _mean(col["villagers"][n - k:])
        for m, per in RATES.items():
            if m in col:
                out[rate_name(m)] = float(per_year(_mean(col[m][n - k:]), villagers, per))
    incident = np.flatnonzero((col["petitions_collective"] > 0) | (col["protest_events"] > 0))
    out["first_collective_step"] = (float(col["step"][incident[0]]) if incident.size
                                    else float("nan"))
    if "compliance_campaign" in col:
        out["compliance_campaign_mean"] = _mean(col["compliance_campaign"])
    out.update(_around_events(col, n - k))
    return out


def _columns(series: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each column of the series as float64 (booleans 0/1; what is not a number, NaN), read
    once: the summaries are NumPy on these arrays (a run's summary in a fraction of a
    millisecond; sweeps summarise every run)."""
    numeric = series.select_dtypes(include=[np.number, np.bool_])
    block = numeric.to_numpy(dtype=float)
    col = {name: block[:, i] for i, name in enumerate(numeric.columns)}
    for name in series.columns.difference(numeric.columns, sort=False):
        col[name] = pd.to_numeric(series[name], errors="coerce").to_numpy(dtype=float)
    return col


def _mean(values: np.ndarray) -> float:
    """The mean of the values that are numbers (NaN if none), as pandas' ``mean`` gives it."""
    nan = np.isnan(values)
    if not nan.any():
        return float(values.mean())
    if nan.all():
        return np.nan
    return float(np.where(nan, 0.0, values).sum() / (values.size - nan.sum()))


def _drift(window: np.ndarray) -> float:
    """Mean of a window's second half minus its first (its middle value, if odd, in
    neither); NaN for windows shorter than two steps or with gaps."""
    half = window.size // 2
    if half == 0 or np.isnan(window).any():
        return float("nan")
    return float(window[-half:].mean() - window[:half].mean())


EVENT_WINDOW = 10
"""Steps before an event that give its "before" level."""


def _around_events(col: dict[str, np.ndarray], tail: int) -> dict[str, float]:
    """The withdrawal and scandal summaries (see summarise) from the columns; ``tail``: the
    first row of the final window."""
    out: dict[str, float] = {}
    steps = col["step"]
    withdrawn = col.get("enforcement_withdrawn")
    if withdrawn is not None and np.any(withdrawn > 0):
        at = int(np.argmax(withdrawn > 0))
        for m in ("compliance", "voluntary_share"):
            if m in col:
                out[f"{m}_before_withdrawal"] = _mean(col[m][max(0, at - EVENT_WINDOW):at])
        out["compliance_drop_withdrawal"] = (out["compliance_before_withdrawal"]
                                             - _mean(col["compliance"][tail:]))
    active = col.get("scandal_active")
    if active is not None and np.any(active > 0):
        active = active > 0
        at = int(np.argmax(active))
        end = int(np.flatnonzero(active)[-1]) + 1  # the first step after the scandal
        for m in ("legitimacy_mean", "compliance"):
            if m in col:
                out.update(_scandal(m, col[m], steps, at, end, tail))
    campaign = col.get("campaign_active")
    if campaign is not None and np.any(campaign > 0):
        on = np.flatnonzero(campaign > 0)
        at, end = int(on[0]), int(on[-1]) + 1  # its first step in force, the first after
        for m in CAMPAIGN_MEASURES:
            if m in col:
                out.update(_campaign(m, col[m], at, end))
    return out


def _campaign(m: str, y: np.ndarray, at: int, end: int) -> dict[str, float]:
    """Measure m in event time around a campaign in force from row ``at`` to ``end``
    (exclusive): the level before, the rise while in force, the level after, the placebo."""
    w = EVENT_WINDOW
    before = _mean(y[at - w:at]) if at >= w else np.nan
    earlier = _mean(y[at - 2 * w:at - w]) if at >= 2 * w else np.nan
    during = _mean(y[at:end])
    after = _mean(y[end:]) if end < y.size else np.nan
    return {f"{m}_campaign_pretrend": before - earlier, f"{m}_campaign_rise": during - before,
            f"{m}_campaign_after": after - before, f"{m}_campaign_excess": during - after}


def _scandal(m: str, y: np.ndarray, steps: np.ndarray, at: int, end: int,
             tail: int) -> dict[str, float]:
    """Measure m around a scandal from row ``at`` to row ``end`` (exclusive)."""
    out: dict[str, float] = {}
    level = _mean(y[max(0, at - EVENT_WINDOW):at]) if at else np.nan
    low_at = at + int(np.nanargmin(y[at:]))
    drop = level - y[low_at]
    fall = rec = persist = np.nan
    if drop > 0:
        half = level - drop / 2
        fall = float(steps[at + int(np.argmax(y[at:] <= half))] - steps[at] + 1)
        back = np.flatnonzero(y[end:] >= half) if end < y.size else np.array([])
        # not regained within the run: censored at the steps left (a lower bound, which
        # understates the hysteresis, never overstates it)
        rec = float(steps[end + back[0]] - steps[end] if back.size
                    else steps[-1] - steps[min(end, y.size - 1)] + 1)
        out[f"{m}_recovered"] = float(back.size > 0)
        persist = (level - _mean(y[tail:])) / drop
    out[f"{m}_scandal_drop"] = float(drop)
    out[f"{m}_fall_half_steps"] = fall
    out[f"{m}_recover_half_steps"] = rec
    out[f"{m}_hysteresis_steps"] = rec - fall
    out[f"{m}_scandal_persist"] = float(persist)
    return out
