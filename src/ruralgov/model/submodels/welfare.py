"""Welfare submodels: public services and minimum-income assistance, and participation.

Each function is one submodel of docs/ODD.md section 7 and has its name; it takes the model
and this step's [`Scratch`][ruralgov.model.state.Scratch].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ruralgov.model.state import F32, Scratch

if TYPE_CHECKING:  # pragma: no cover
    from ruralgov.model.county import RuralGovernanceModel

__all__ = ["services", "participation"]


def services(model: RuralGovernanceModel, s: Scratch) -> None:
    """Public services and minimum-income assistance relieve hardship (低保动态管理, ODD 7.3).

    First hardship moves: it recovers by hardship_recovery of the gap to the villager's
    structural hardship, and a share hardship_shock of villagers is hit by a shock of
    shock_size, so who is eligible changes between reviews.

    The rolls are reviewed at step 1 and then every ``assistance_review`` steps: each
    eligible villager (hardship above the poverty line) is kept on the rolls with
    probability a = targeting_accuracy x (1 - s), s the township's self-interest
    (relationship-based allocation), and an ineligible one is put on them with probability
    (1 - a) x e / (1 - e), e the eligible share, so that the rolls keep about the size of the
    eligible population while errors of inclusion and exclusion grow with (1 - a).

    Reads: ``hardship``, ``hardship_base``, ``assisted``, the townships' ``self_interest``,
    ``cache.services``. Writes: ``hardship``, ``assisted`` (at reviews),
    ``effective_hardship``, ``cache.services``; scratch ``gains``, ``losses``, ``tally``."""
    p, v = model.p, model.villagers
    if p["hardship_shock"] > 0:  # shocks and recovery: eligibility changes between reviews
        v.hardship += F32(p["hardship_recovery"]) * (v.hardship_base - v.hardship)
        hit = model.runs.bernoulli(p["hardship_shock"])
        v.hardship[hit] = np.minimum(v.hardship[hit] + F32(p["shock_size"]), F32(1.0))
        model.cache.services = None  # effective hardship and targeting errors change
        s.tally["hardship_shocks"] = model.runs.count(hit)
    if not p["mech_services"]:
        v.effective_hardship = v.hardship
        v.assisted[:] = False
        model.cache.services = None
        return
    review = p["assistance_review"]
    if model.steps == 1 or (review > 0 and (model.steps - 1) % review == 0):
        eligible = v.hardship > p["poverty_line"]
        self_interest = model.structure.to_villagers(
            np.array([t.self_interest for t in model.townships], dtype=F32))
        accuracy = p["targeting_accuracy"] * (1.0 - self_interest)
        e = np.minimum(model.runs.mean(eligible), 0.5)  # per run
        leak = (1.0 - accuracy) * model.runs.spread(e) / model.runs.spread(1.0 - e)
        u = model.runs.random()
        v.assisted = np.where(eligible, u < accuracy, u < leak)
        model.cache.services = None
    key = tuple(tuple(q[k] for k in ("service_coverage", "service_relief",
                                     "assistance_relief", "poverty_line"))
                for q in model.runs.params)
    if model.cache.services is None or model.cache.services_key != key:  # between reviews
        model.cache.services, model.cache.services_key = _assistance(model), key
    excluded, measures = model.cache.services
    coverage = model.runs.spread(model.runs.values(
        lambda q: q["service_gain"] * q["service_coverage"]))
    assisted = np.multiply(v.assisted, F32(p["service_gain"]), dtype=F32)
    s.gains += coverage
    s.gains += assisted
    if p["policy_credit"] > 0:  # the centre's policies, the township only delivering them
        s.gains_upper += F32(p["policy_credit"]) * (coverage + assisted)
    s.losses[excluded] += F32(p["exclusion_loss"])
    s.tally.update(measures)


def _assistance(model: RuralGovernanceModel) -> tuple[np.ndarray, dict[str, float]]:
    """Effective hardship under the current rolls; the excluded eligible villagers and the
    targeting measures."""
    p, v = model.p, model.villagers
    eligible = v.hardship > p["poverty_line"]
    relief = model.runs.spread(model.runs.values(
        lambda q: 1.0 - q["service_coverage"] * q["service_relief"]))
    v.effective_hardship = v.hardship * relief * np.where(
        v.assisted, F32(1.0 - p["assistance_relief"]), F32(1.0))
    excluded = np.flatnonzero(eligible & ~v.assisted)
    runs = model.runs
    n_elig = runs.count_true(eligible)
    n_ass = runs.count_true(v.assisted)
    return excluded, {
        "assisted_share": n_ass / runs.sizes(),
        "inclusion_error": _ratio(runs.count_true(v.assisted & ~eligible), n_ass, 0.0),
        "exclusion_error": _ratio(runs.count(excluded), n_elig, 0.0)}


def _ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    """num / den per run, ``empty`` where den is 0."""
    return np.divide(num, den, out=np.full(den.shape, empty), where=den > 0)


def participation(model: RuralGovernanceModel, s: Scratch) -> None:
    """A share of villagers takes part in deliberation (民主参与): legitimacy rises and
    grievance is talked down (疏导情绪; ODD 7.7). A fiscally marginalised township holds fewer
    assemblies: the share is participation x (1 - fiscal_dependence).

    Reads: ``grievance``. Writes: ``grievance``; scratch ``gains``, ``tally``."""
    p = model.p
    rate = model.runs.values(  # assemblies not held
        lambda q: q["participation"] * (1.0 - q["fiscal_dependence"]))
    if not p["mech_participation"] or not (rate > 0).any():
        return
    part = model.runs.bernoulli(rate, per_run=True)
    s.gains[part] += F32(p["participation_gain"])
    model.villagers.grievance[part] *= F32(1.0 - p["participation_relief"])
    s.tally["participants"] = model.runs.count(part)
