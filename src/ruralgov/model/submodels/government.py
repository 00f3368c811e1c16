"""Government submodels: scheduled events, the townships' plans and their reports upward.

Each function is one submodel of docs/ODD.md section 7 and has its name; it takes the model
and this step's [`Scratch`][ruralgov.model.state.Scratch].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ruralgov.model.state import F32, Scratch

if TYPE_CHECKING:  # pragma: no cover
    from ruralgov.model.county import RuralGovernanceModel

__all__ = ["schedule", "township_plan", "township_report"]


def schedule(model: RuralGovernanceModel, s: Scratch) -> None:
    """Scheduled events (ODD 7.1). First the interventions of this step set their parameters
    (in the order given) for this step and the steps after — a township's own levers for that
    township alone. Routine rules are always active;
    the campaign rule is active in steps campaign_start + 1 .. campaign_start +
    campaign_duration. From step
    withdrawal_step + 1 on (if > 0) routine rules are no longer enforced. During a scandal
    (steps scandal_start + 1 .. scandal_start + scandal_duration) officials' visible misconduct
    is scandal_misconduct instead of official_misconduct.

    Reads: ``rules.active``, ``rules.routine``, ``rules.enforcement``, ``rules.applies``,
    ``rules.live``, ``rules.comply``, ``model.interventions``. Writes: ``model.p`` (the
    interventions' parameters), ``rules.active``, ``rules.live``,
    ``rules.n_live``, the cache; scratch ``withdrawn``, ``enforcement_now``,
    ``scandal_active``, ``misconduct``, ``kept_prev``."""
    p, r, runs = model.p, model.rules, model.runs
    step = model.steps
    for iv in model.interventions:
        if iv.step != step:
            continue
        if iv.township is not None:  # one township head's own choice, in every run
            for m in model.members:
                m.townships[iv.township].levers.update(iv.settings)
            continue
        for q in {id(q): q for q in (p, *runs.params)}.values():  # every run's
            q.update(iv.settings)
    if p["campaign"]:
        r.active[-1] = p["campaign_start"] < step <= p["campaign_start"] + p["campaign_duration"]
    s.withdrawn = 0 < p["withdrawal_step"] < step
    s.enforcement_now = np.where(s.withdrawn & r.routine, F32(0.0), r.enforcement)
    s.scandal_active = runs.values(lambda q: bool(
        q["scandal"] and q["scandal_start"] < step <= q["scandal_start"] + q["scandal_duration"]))
    s.misconduct = np.where(s.scandal_active, runs.values(lambda q: q["scandal_misconduct"]),
                            runs.values(lambda q: q["official_misconduct"])).astype(np.float64)
    key = r.active.tobytes()
    if key != model.cache.live_key:  # what depends only on which rules are live: cached
        model.cache.invalidate_rules(key)
        r.live = r.applies & r.active[:, None]
        r.n_live = r.live.sum(axis=0, dtype=np.int32)
    s.kept_prev = r.comply & r.live


def township_plan(model: RuralGovernanceModel, s: Scratch) -> None:
    """Each township sets its plan ([`Township.plan`][ruralgov.model.agents.Township.plan]);
    detection per township and rule is rule enforcement x fidelity x effort, at most 1; while a
    campaign runs it draws campaign_draw of the effort from the routine rules (ODD 7.2).

    Reads: the townships' ``self_interest`` and ``pressure``; scratch ``enforcement_now``.
    Village cadres (mech_cadres) answer to villagers as far as elections and, through
    lineage_accountability, the village's lineage strength make them, less the share
    cadre_self_interest they serve themselves.

    Writes: the townships' plans; scratch ``fidelity``, ``effort``, ``fit``, ``deviation``,
    ``petition_capacity``, ``dispute_capacity``, ``suppress``, ``detect``,
    ``cadre_orientation``."""
    ts = model.townships
    for t in ts:
        t.plan()
    s.fidelity = np.array([t.fidelity for t in ts], dtype=F32)
    s.effort = np.array([t.effort for t in ts], dtype=F32)
    s.fit = np.array([t.fit for t in ts], dtype=F32)
    s.deviation = np.array([t.deviation for t in ts], dtype=F32)
    s.petition_capacity = np.array([t.petition_capacity for t in ts])
    s.dispute_capacity = np.array([t.dispute_capacity for t in ts])
    s.suppress = np.array([t.suppress_probability for t in ts], dtype=F32)
    st = model.structure
    if model.p["mech_cadres"]:  # to whom village cadres answer: elections, lineages
        s.cadre_orientation = (np.clip(
            model.p["elections"] + model.p["lineage_accountability"]
            * (st.lineage_strength - 1.0), 0.0, 1.0)
            * (1.0 - model.p["cadre_self_interest"])).astype(F32)  # serving themselves
    else:
        s.cadre_orientation = np.zeros(st.n_villages, dtype=F32)
    p, r = model.p, model.rules
    if p["mech_enforcement"]:
        now = s.enforcement_now  # K, or per township (T x K) when stacked runs differ
        s.detect = ((now[None, :] if now.ndim == 1 else now)
                    * (s.fidelity * s.effort)[:, None]).astype(F32)
        if p["campaign"] and r.active[-1] and p["campaign_draw"] > 0:  # the campaign draws
            s.detect[:, r.routine] *= F32(1.0 - p["campaign_draw"])  # effort from routine
        np.minimum(s.detect, F32(1.0), out=s.detect)
    else:
        s.detect = np.zeros((len(ts), model.rules.k), dtype=F32)


def township_report(model: RuralGovernanceModel, s: Scratch) -> None:
    """Townships report compliance upward and feel the pressure of reprimands
    ([`Township.report`][ruralgov.model.agents.Township.report], ODD 7.14).

    Reads: scratch ``n_kept``, ``handled``, ``escalated``; ``rules.n_live``. Writes: the
    townships' ``true_compliance``, ``reported_compliance``, ``escalations``,
    ``cases_handled`` and ``pressure``."""
    st = model.structure
    num = st.township_sum(s.n_kept)
    den = st.township_sum(model.rules.n_live)
    true = np.divide(num, den, out=np.full(st.n_townships, np.nan), where=den > 0)
    handled, escalated = s.handled.tolist(), s.escalated.tolist()
    for t, tc in zip(model.townships, true.tolist()):
        t.cases_handled = int(handled[t.index])
        t.report(tc, int(escalated[t.index]))
