"""Attitude submodels: grievance and legitimacy, the two stocks every other process feeds.

Each function is one submodel of docs/ODD.md section 7 and has its name; it takes the model
and this step's [`Scratch`][ruralgov.model.state.Scratch].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ruralgov.model import equations
from ruralgov.model.state import F32, Scratch

if TYPE_CHECKING:  # pragma: no cover
    from ruralgov.model.county import RuralGovernanceModel

__all__ = ["update_grievance", "update_legitimacy"]


def update_grievance(model: RuralGovernanceModel, s: Scratch) -> None:
    """G' = (1 - decay) G + hardship_grievance * h (1 - L) + burden_grievance * burden
    + this step's enforcement grievances, clipped to [0, 1] (ODD 7.8). The burden is the mean
    cost of the live rules a villager keeps (per live rule), or with ``burden_total`` their
    total cost.

    Reads: scratch ``cost``, ``kept``, ``grievance_in``; ``effective_hardship``,
    ``legitimacy``, ``rules.n_live``. Writes: ``grievance``; scratch ``burden``."""
    p, v, st = model.p, model.villagers, model.structure
    burden = np.empty(st.n, dtype=F32)
    for blk in st.blocks:
        burden[blk] = np.multiply(s.cost[:, blk], s.kept[:, blk]).sum(axis=0)
    if not p["burden_total"]:
        burden /= np.maximum(model.rules.n_live, 1)
    s.burden = burden
    g = v.grievance
    per = model.runs.param
    g *= per(lambda q: 1.0 - q["grievance_decay"])
    g += per(lambda q: q["hardship_grievance"]) * v.effective_hardship * (1.0 - v.legitimacy)
    g += F32(p["burden_grievance"]) * burden
    g += s.grievance_in
    np.clip(g, 0.0, 1.0, out=g)


def update_legitimacy(model: RuralGovernanceModel, s: Scratch) -> None:
    """Legitimacy is a stock: L' = L + gains - loss_weight * losses + social influence
    (ODD 7.13).

    Gains fill the gap to 1 and losses drain in proportion to the stock
    ([`legitimacy_step`][ruralgov.model.equations.legitimacy_step]). Gains: answered
    petitions, fair (graduated) enforcement, services, participation, resolved disputes.
    Losses: conflicting directives one is exposed to, unfair hits, waiting and suppressed
    petitions, detention, exclusion from assistance, unresolved formal disputes, the
    township's deviation and officials' visible misconduct.

    Reads: scratch ``gains``, ``losses``, ``conflicts``, ``deviation``, ``misconduct``;
    ``rules.live``, ``rules.n_live``, ``cache.exposure``, ``gains_upper``,
    ``losses_upper``. Writes: ``legitimacy``, ``trust_local``, ``trust_upper``,
    ``cache.exposure``; scratch ``losses``, ``losses_upper``, ``tally``.

    With ``mech_trust_levels``, trust in the township and trust in the levels above are
    stocks of the same form without social influence: the county's answers and waiting,
    concessions to protest and the share conflict_blame_upper of the loss from contradictory
    directives move trust above (the rest of that loss, trust in the township); everything else
    (the township's answers, suppression, enforcement, services, disputes, deviation)
    moves trust in the township. With ``diffuse_support`` > 0 both then return that share of
    the way toward the villager's diffuse support."""
    p, v, st, cache = model.p, model.villagers, model.structure, model.cache
    if p["mech_fragmentation"] and s.conflicts.any():
        if cache.exposure is None:  # depends only on which rules are live
            cache.exposure = equations.conflict_exposure(
                model.rules.live, model.rules.n_live, s.conflicts, s.local)
            cache.exposure_mean = model.runs.mean(cache.exposure)
        loss = model.runs.param(lambda q: q["conflict_loss"])
        s.losses += loss * cache.exposure
        # the county's directives, blamed on their issuers or on the township enforcing them
        s.losses_upper += F32(p["conflict_blame_upper"]) * loss * cache.exposure
        s.tally["conflict_exposure"] = cache.exposure_mean
    s.losses += F32(p["deviation_loss"]) * st.to_villagers(s.deviation)
    if p["mech_cadres"] and p["cadre_self_interest"] > 0:  # cadres serving themselves
        s.losses += F32(p["deviation_loss"] * p["cadre_self_interest"])
    s.losses += model.runs.spread(model.runs.values(lambda q: q["misconduct_loss"])
                                  * s.misconduct)
    if not p["mech_legitimacy"]:
        return
    weight = model.runs.param(lambda q: q["loss_weight"])
    if p["mech_trust_levels"]:  # each level's own actions move trust in it
        v.trust_local = equations.legitimacy_step(
            v.trust_local, s.gains - s.gains_upper, s.losses - s.losses_upper,
            weight, 0.0, v.trust_local).astype(F32, copy=False)
        v.trust_upper = equations.legitimacy_step(
            v.trust_upper, s.gains_upper, s.losses_upper, weight, 0.0,
            v.trust_upper).astype(F32, copy=False)
        if p["diffuse_support"] > 0:  # both return toward the villager's diffuse support
            rate = F32(p["diffuse_support"])
            v.trust_local = equations.diffuse_pull(v.trust_local, v.support, rate)
            v.trust_upper = equations.diffuse_pull(v.trust_upper, v.support, rate)
    neighbours = st.weights @ v.legitimacy
    alone = st.isolated  # no ties: their own view, no pull
    neighbours[alone] = v.legitimacy[alone]
    v.legitimacy = equations.legitimacy_step(
        v.legitimacy, s.gains, s.losses, weight, model.runs.param(
            lambda q: q["social_influence"]),
        neighbours).astype(F32, copy=False)
