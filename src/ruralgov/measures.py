"""Per-run summaries of the per-step series (docs/ODD.md, design concept "observation")."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["summarise", "SERIES_MEASURES", "MEAN_MEASURES", "PEAK_MEASURES", "TOTAL_MEASURES"]

#: The columns of the per-step series (``model.series()``), besides ``step``; the last one
#: only with a campaign. docs/ODD.md section 4 defines each.
SERIES_MEASURES = (
    "compliance", "evasion", "voluntary_share", "compliance_reported", "assisted_share",
    "inclusion_error", "exclusion_error", "persuasions", "warnings", "sanctions", "unfair_hits",
    "participants", "petitions_new", "petitions_collective", "petitions_individual",
    "response_time", "petitions_answered", "petitions_suppressed", "petitions_escalated",
    "petition_backlog", "petitions_abandoned", "county_answered", "county_backlog",
    "compliance_inspected", "protesters", "protest_events", "protest_max_size", "detained",
    "disputes", "disputes_formal", "disputes_resolved_formally", "disputes_resolved_informally",
    "substitution_index", "conflict_exposure", "legitimacy_mean", "legitimacy_sd",
    "grievance_mean", "norm_attachment_mean", "implementation_fidelity", "capacity_use",
    "pressure_mean", "fragmentation_index", "conflicting_pairs", "campaign_active",
    "enforced_share", "reporting_gap", "compliance_campaign",
)

#: Averaged over the last quarter of the run ("<name>_final").
MEAN_MEASURES = (
    "compliance", "evasion", "voluntary_share", "compliance_reported", "compliance_inspected",
    "reporting_gap", "legitimacy_mean", "legitimacy_sd", "grievance_mean",
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


def summarise(series: pd.DataFrame, final_share: float = 0.25) -> dict[str, float]:
    """One row of run-level measures, fit for sweeps.

    * ``<m>_final``: mean of measure m over the last ``final_share`` of the steps;
    * ``<m>_peak``: maximum; ``<m>_total``: sum over the run;
    * ``first_collective_step``: first step with a collective petition or a protest event
      (NaN if none);
    * ``compliance_campaign_mean``: mean campaign compliance while it ran (if any).
    """
    n = len(series)
    if n == 0:
        return {"steps": 0}
    tail = series.iloc[n - max(1, math.ceil(n * final_share)):]
    out: dict[str, float] = {"steps": int(series["step"].iloc[-1])}
    for m in MEAN_MEASURES:
        if m in series:
            vals = pd.to_numeric(tail[m], errors="coerce")
            out[f"{m}_final"] = float(vals.mean()) if vals.notna().any() else float("nan")
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
    return out
