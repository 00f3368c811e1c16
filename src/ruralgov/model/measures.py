"""Per-run summaries of the per-step series (docs/ODD.md, design concept "observation").

[`summarise`][ruralgov.model.measures.summarise] turns one run's series into one row of
run-level measures: means over the final quarter, peaks, totals and summaries around events."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ruralgov.model.observe import SERIES

__all__ = ["summarise", "SERIES_MEASURES", "MEAN_MEASURES", "PEAK_MEASURES", "TOTAL_MEASURES",
           "SUMMARY_MEASURES"]

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
    "conflict_exposure",
)
#: Their maximum over the run ("<name>_peak").
PEAK_MEASURES = ("protesters", "protest_max_size", "petition_backlog", "petitions_escalated",
                 "county_backlog", "petitions_collective")
#: Their sum over the run ("<name>_total").
TOTAL_MEASURES = ("petitions_new", "petitions_collective", "petitions_escalated",
                  "petitions_suppressed", "petitions_abandoned", "protest_events", "detained",
                  "persuasions", "warnings", "sanctions", "unfair_hits")


#: Every per-run summary that summarise() can give (some only when their event happens).
SUMMARY_MEASURES = frozenset(
    {f"{m}_final" for m in MEAN_MEASURES} | {f"{m}_final_drift" for m in MEAN_MEASURES}
    | {f"{m}_early" for m in MEAN_MEASURES}
    | {f"{m}_peak" for m in PEAK_MEASURES}
    | {f"{m}_total" for m in TOTAL_MEASURES}
    | {"first_collective_step", "compliance_campaign_mean", "compliance_before_withdrawal",
       "voluntary_share_before_withdrawal", "compliance_drop_withdrawal"}
    | {f"{m}_{s}" for m in ("legitimacy_mean", "compliance")
       for s in ("scandal_drop", "fall_half_steps", "recover_half_steps", "hysteresis_steps",
                 "recovered", "scandal_persist")})


def summarise(series: pd.DataFrame, final_share: float = 0.25) -> dict[str, float]:
    """One row of run-level measures, fit for sweeps.

    * ``<m>_final``: mean of measure m over the last ``final_share`` of the steps, and
      ``<m>_final_drift``: the mean over that window's second half minus its first (is the
      window stationary?); ``<m>_early``: the mean over the first ``final_share`` of the
      steps (with the final window, an effect now against an effect later);
    * ``<m>_peak``: maximum; ``<m>_total``: sum over the run;
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
    """
    n = len(series)
    if n == 0:
        return {"steps": 0}
    tail = series.iloc[n - max(1, math.ceil(n * final_share)):]
    head = series.iloc[:max(1, math.ceil(n * final_share))]
    out: dict[str, float] = {"steps": int(series["step"].iloc[-1])}
    for m in MEAN_MEASURES:
        if m in series:
            vals = pd.to_numeric(tail[m], errors="coerce")
            out[f"{m}_final"] = float(vals.mean()) if vals.notna().any() else float("nan")
            out[f"{m}_final_drift"] = _drift(vals.to_numpy(dtype=float))
            early = pd.to_numeric(head[m], errors="coerce")
            out[f"{m}_early"] = float(early.mean()) if early.notna().any() else float("nan")
    for m in PEAK_MEASURES:
        if m in series:
            out[f"{m}_peak"] = float(series[m].max())
    for m in TOTAL_MEASURES:
        if m in series:
            out[f"{m}_total"] = float(series[m].sum())
    incident = (series["petitions_collective"] > 0) | (series["protest_events"] > 0)
    out["first_collective_step"] = (float(series["step"][incident].iloc[0]) if incident.any()
                                    else float("nan"))
    if "compliance_campaign" in series:
        c = series["compliance_campaign"].astype(float)
        out["compliance_campaign_mean"] = float(np.nanmean(c)) if c.notna().any() else float(
            "nan")
    out.update(_around_events(series))
    return out


def _drift(window: np.ndarray) -> float:
    """Mean of a window's second half minus its first (its middle value, if odd, in
    neither); NaN for windows shorter than two steps or with gaps."""
    half = window.size // 2
    if half == 0 or np.isnan(window).any():
        return float("nan")
    return float(window[-half:].mean() - window[:half].mean())


EVENT_WINDOW = 10
"""Steps before an event that give its "before" level."""


def _around_events(series: pd.DataFrame) -> dict[str, float]:
    out: dict[str, float] = {}
    steps = series["step"].to_numpy()
    if "enforcement_withdrawn" in series and series["enforcement_withdrawn"].any():
        at = int(np.argmax(series["enforcement_withdrawn"].to_numpy(dtype=bool)))
        before = series.iloc[max(0, at - EVENT_WINDOW):at]
        for m in ("compliance", "voluntary_share"):
            if m not in series:
                continue
            out[f"{m}_before_withdrawal"] = float(before[m].mean()) if len(before) else np.nan
        out["compliance_drop_withdrawal"] = (out["compliance_before_withdrawal"]
                                             - _tail_mean(series, "compliance"))
    if "scandal_active" in series and series["scandal_active"].any():
        active = series["scandal_active"].to_numpy(dtype=bool)
        at = int(np.argmax(active))
        end = int(np.flatnonzero(active)[-1]) + 1  # the first step after the scandal
        for m in ("legitimacy_mean", "compliance"):
            if m not in series:
                continue
            y = series[m].to_numpy(dtype=float)
            level = float(np.nanmean(y[max(0, at - EVENT_WINDOW):at])) if at else np.nan
            low_at = at + int(np.nanargmin(y[at:]))
            drop = level - y[low_at]
            fall = rec = persist = np.nan
            if drop > 0:
                half = level - drop / 2
                fall = float(steps[at + int(np.argmax(y[at:] <= half))] - steps[at] + 1)
                back = np.flatnonzero(y[end:] >= half) if end < y.size else np.array([])
                # not regained within the run: censored at the steps left (a lower bound,
                # which understates the hysteresis, never overstates it)
                rec = float(steps[end + back[0]] - steps[end] if back.size
                            else steps[-1] - steps[min(end, y.size - 1)] + 1)
                out[f"{m}_recovered"] = float(back.size > 0)
                persist = (level - _tail_mean(series, m)) / drop
            out[f"{m}_scandal_drop"] = float(drop)
            out[f"{m}_fall_half_steps"] = fall
            out[f"{m}_recover_half_steps"] = rec
            out[f"{m}_hysteresis_steps"] = rec - fall
            out[f"{m}_scandal_persist"] = float(persist)
    return out


def _tail_mean(series: pd.DataFrame, m: str, final_share: float = 0.25) -> float:
    n = len(series)
    return float(series[m].iloc[n - max(1, math.ceil(n * final_share)):].mean())
