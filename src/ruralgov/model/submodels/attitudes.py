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
    g *= F32(1.0 - p["grievance_decay"])
    g += F32(p["hardship_grievance"]) * v.effective_hardship * (1.0 - v.legitimacy)
    g += F32(p["burden_grievance"]) * burden.astype(F32)
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
    ``rules.live``, ``rules.n_live``, ``cache.exposure``. Writes: ``legitimacy``,
    ``cache.exposure``; scratch ``losses``, ``tally``."""
    p, v, st, cache = model.p, model.villagers, model.structure, model.cache
    if p["mech_fragmentation"] and s.conflicts.any():
        if cache.exposure is None:  # depends only on which rules are live
            cache.exposure = equations.conflict_exposure(
                model.rules.live, model.rules.n_live, s.conflicts, s.local)
            cache.exposure_mean = float(cache.exposure.mean())
        s.losses += F32(p["conflict_loss"]) * cache.exposure
        s.tally["conflict_exposure"] = cache.exposure_mean
    s.losses += F32(p["deviation_loss"]) * st.to_villagers(s.deviation)
    s.losses += F32(p["misconduct_loss"] * s.misconduct)
    if not p["mech_legitimacy"]:
        return
    neighbours = st.weights @ v.legitimacy
    alone = st.isolated  # no ties: their own view, no pull
    neighbours[alone] = v.legitimacy[alone]
    v.legitimacy = equations.legitimacy_step(
        v.legitimacy, s.gains, s.losses, p["loss_weight"], p["social_influence"],
        neighbours).astype(F32)
