"""The disputes submodel: everyday disputes go to the township or to the lineage elders.

One function, one submodel of docs/ODD.md section 7; it takes the model and this step's
[`Scratch`][ruralgov.model.state.Scratch].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ruralgov.model import equations
from ruralgov.model.state import F32, Scratch

if TYPE_CHECKING:  # pragma: no cover
    from ruralgov.model.county import RuralGovernanceModel

__all__ = ["disputes"]


def disputes(model: RuralGovernanceModel, s: Scratch) -> None:
    """Everyday disputes go to the township or to the elders (substitution, 制度权威替代;
    ODD 7.12).

    P(formal) = logistic(w0 + wL(2L - 1) - wA(2a - 1) + wS * elders' mean stance), w0 =
    w_formal_bias. A village cadre
    who answers to villagers settles some formal disputes in the village (cadre_mediation x
    orientation; mech_cadres); the township resolves the rest up to its dispute capacity;
    a dispute it handles is settled with chance mediation_success; unresolved ones fall back
    to the elders. Informal resolution strengthens norm
    attachment, formal resolution weakens it.

    Reads: ``effective_hardship``, ``legitimacy``, ``attachment``, ``rules.stance``,
    ``rules.active``; scratch ``dispute_capacity``, ``handled``, ``cadre_orientation``.
    Writes: ``attachment``; scratch ``gains``, ``losses``, ``handled``, ``tally``."""
    p, v, st, r = model.p, model.villagers, model.structure, model.rules
    runs = model.runs
    rate = np.minimum(F32(p["dispute_rate"]) * (F32(0.5) + v.effective_hardship), F32(1.0))
    idx = runs.bernoulli(rate)
    if p["mech_informal"]:
        active_stance = (r.stance[:, r.active].mean(axis=1) if r.active.any()
                         else np.zeros(r.stance.shape[0], dtype=F32))
        x = (p["w_formal_bias"] + p["w_formal_legitimacy"] * (2.0 * v.legitimacy[idx] - 1.0)
             - p["w_formal_attachment"] * (2.0 * v.attachment[idx] - 1.0)
             + p["w_formal_stance"] * active_stance[st.lineage[idx]])
        formal = runs.random(idx) < equations.logistic(x.astype(F32))
    else:
        formal = np.ones(idx.size, dtype=bool)
    f_idx = idx[formal]
    mediated = np.empty(0, dtype=np.int64)
    if p["mech_cadres"] and p["cadre_mediation"] > 0:  # the village cadre settles some (调解)
        chance = p["cadre_mediation"] * s.cadre_orientation[st.village[f_idx]]
        by_cadre = runs.random(f_idx) < chance
        mediated, f_idx = f_idx[by_cadre], f_idx[~by_cadre]
        s.gains[mediated] += F32(p["dispute_gain"])
    tw = st.township[f_idx]
    count = np.bincount(tw, minlength=st.n_townships)
    resolve_p = np.minimum(np.divide(s.dispute_capacity, count, out=np.zeros(st.n_townships),
                                     where=count > 0), 1.0)
    u = runs.random(f_idx)
    handled = u < resolve_p[tw]  # within the township's capacity
    if p["mediation_success"] < 1.0:  # handled, yet the parties do not settle
        resolved = u < resolve_p[tw] * p["mediation_success"]
    else:
        resolved = handled
    fr = f_idx[resolved]
    s.gains[fr] += F32(p["dispute_gain"])
    unresolved = f_idx[~resolved]
    s.losses[unresolved] += F32(p["dispute_gain"])
    s.handled = s.handled + np.bincount(tw[handled], minlength=st.n_townships)
    if p["mech_informal"]:
        informal = np.concatenate([idx[~formal], unresolved])
        ir = informal[runs.random(informal) < p["elder_resolution"]]
        v.attachment[ir] += F32(p["attachment_rate"])
        v.attachment[fr] -= F32(p["attachment_rate"])
        np.clip(v.attachment, 0.0, 1.0, out=v.attachment)
    else:
        ir = np.empty(0, dtype=np.int64)
    count = runs.count
    informally = count(ir)
    total = count(fr) + count(mediated) + informally
    s.tally.update({"disputes": count(idx),
                    "disputes_formal": count(f_idx) + count(mediated),
                    "disputes_resolved_formally": count(fr) + count(mediated),
                    "disputes_resolved_informally": informally,
                    "substitution_index": np.divide(informally, total,
                                                    out=np.full(runs.r, np.nan),
                                                    where=total > 0)})
