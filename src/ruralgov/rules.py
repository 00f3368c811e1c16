"""Decision rules as small pure functions on arrays.

Every function here is a piece of a submodel of docs/ODD.md (section 7) and is named after the
quantity it computes. None of them draws random numbers or touches a model: they can be tested
on hand-made arrays, and the classic reference models reuse them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "logistic", "fragmentation_index", "conflict_matrix", "implementation_fidelity",
    "perceived_sanction", "informal_signal", "compliance_utility", "conflict_load",
    "arrest_probability", "net_protest_risk", "threshold_cascade", "legitimacy_step",
    "report_compliance", "row_normalise",
]


def logistic(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(-x)), computed in place when ``out`` is given."""
    out = np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


def fragmentation_index(n_departments: int, coordination: float) -> float:
    """F = (D - 1) / D * (1 - coordination): 0 for one department or full coordination."""
    if n_departments < 1:
        raise ValueError(f"n_departments = {n_departments} must be at least 1")
    return (n_departments - 1) / n_departments * (1.0 - coordination)


def conflict_matrix(pair_draws: np.ndarray, department: np.ndarray, conflict_probability: float,
                    coordination: float, active: np.ndarray | None = None) -> np.ndarray:
    """Which pairs of live rules conflict (文件打架).

    Among the pairs of active rules issued by *different* departments, the
    ``round(conflict_probability * (1 - coordination) * pairs)`` pairs with the lowest fixed
    pair draws conflict. Rules of the same department never conflict. The count is exact, so
    runs differ in *which* rules conflict but not in how many; because the draws are fixed,
    raising coordination removes conflicts and never creates one.

    Returns:
        Symmetric K x K bool matrix with a False diagonal.
    """
    k = department.shape[0]
    if active is None:
        active = np.ones(k, dtype=bool)
    eligible = np.triu(department[:, None] != department[None, :], 1)
    eligible &= active[:, None] & active[None, :]
    iu = np.flatnonzero(eligible.ravel())
    n_conflicts = int(round(conflict_probability * (1.0 - coordination) * iu.size))
    out = np.zeros(k * k, dtype=bool)
    if n_conflicts > 0:
        order = np.argsort(pair_draws.ravel()[iu], kind="stable")
        out[iu[order[:n_conflicts]]] = True
    out = out.reshape(k, k)
    return out | out.T


def implementation_fidelity(transmission_fidelity: float, levels: int,
                            deviation: np.ndarray | float) -> np.ndarray | float:
    """Share of a directive implemented as issued: lambda ** levels * (1 - deviation) (层层过滤)."""
    return transmission_fidelity ** levels * (1.0 - deviation)


def perceived_sanction(p_detect: np.ndarray, deterrence: np.ndarray, severity: float,
                       risk_aversion: np.ndarray) -> np.ndarray:
    """Expected sanction as felt: (p + d(1 - p)) * severity * (0.5 + risk aversion).

    ``p_detect`` is N x K; ``deterrence`` (remembered enforcement, 0-1) and ``risk_aversion``
    are per villager.
    """
    d = deterrence[:, None]
    felt = p_detect + d * (1.0 - p_detect)
    felt *= (severity * (0.5 + risk_aversion))[:, None]
    return felt


def informal_signal(peer_share: np.ndarray, elder_stance: np.ndarray, peer_weight: float,
                    elder: np.ndarray) -> np.ndarray:
    """Informal norm towards each rule, in [-1, 1].

    I = w * (2 * peer_share - 1) + (1 - w) * stance for ordinary villagers; elders follow
    their lineage's stance alone (I = stance).
    """
    signal = peer_weight * (2.0 * peer_share - 1.0) + (1.0 - peer_weight) * elder_stance
    if elder.any():
        signal[elder] = elder_stance[elder]
    return signal


def conflict_load(comply_prev: np.ndarray, conflicts: np.ndarray) -> np.ndarray:
    """Share of the other rules a villager keeps that conflict with each rule.

    ``comply_prev`` is N x K (0/1), ``conflicts`` K x K bool. Returns N x K in [0, 1].
    """
    k = conflicts.shape[0]
    if k < 2 or not conflicts.any():
        return np.zeros(comply_prev.shape, dtype=np.float32)
    return (comply_prev @ conflicts.astype(np.float32)) / np.float32(k - 1)


def compliance_utility(*, base: float, legitimacy: np.ndarray, w_legitimacy: float,
                       sanction: np.ndarray, w_enforcement: float, attachment: np.ndarray,
                       signal: np.ndarray, w_norm: float, habit: np.ndarray, w_habit: float,
                       cost: np.ndarray, w_cost: float, load: np.ndarray, w_conflict: float,
                       misconduct: float, w_misconduct: float) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds of complying with each rule, and the part owed to enforcement.

    U = base + wL(2L - 1) + wE * sanction + wN * a * I + wH(2 habit - 1) - wC * cost
        - wX * load - wM * misconduct

    Returns:
        (U, enforced) where ``enforced = wE * sanction``; ``U - enforced`` is the log-odds of
        *voluntary* compliance.
    """
    u = (base - w_misconduct * misconduct) + (w_legitimacy * (2.0 * legitimacy - 1.0))[:, None]
    u = u + w_norm * attachment[:, None] * signal
    u += w_habit * (2.0 * habit - 1.0)
    u -= w_cost * cost
    u -= w_conflict * load
    enforced = w_enforcement * sanction
    u += enforced
    return u.astype(np.float32, copy=False), enforced


def arrest_probability(force: np.ndarray, protesters: np.ndarray, k: float) -> np.ndarray:
    """Epstein (2002): P = 1 - exp(-k * C / A) with A counting the would-be protester (A >= 1)."""
    return 1.0 - np.exp(-k * force / (1.0 + protesters))


def net_protest_risk(grievance: np.ndarray, legitimacy: np.ndarray, risk_aversion: np.ndarray,
                     arrest: np.ndarray, deterrence: np.ndarray | float = 0.0) -> np.ndarray:
    """Epstein's net grievance G(1 - L) - R * P', with P' = P + d (1 - P) the arrest risk as
    felt by a villager who remembers enforcement d (here G is the villager's grievance stock)."""
    felt = arrest + deterrence * (1.0 - arrest)
    return grievance * (1.0 - legitimacy) - risk_aversion * felt


def threshold_cascade(weights: sp.csr_matrix, willing: np.ndarray, thresholds: np.ndarray,
                      start: np.ndarray, rounds: int) -> np.ndarray:
    """Granovetter threshold dynamics on a weighted, row-normalised network.

    A willing villager is active when the weighted share of active neighbours reaches their
    threshold. ``start`` is the initial active set (e.g. last step's protesters); ``rounds``
    synchronous rounds are run, stopping early at a fixed point.
    """
    share = weights @ start.astype(np.float32)
    active = willing & (thresholds <= share)
    for _ in range(rounds - 1):
        share = weights @ active.astype(np.float32)
        new = willing & (thresholds <= share)
        if np.array_equal(new, active):
            break
        active = new
    return active


def legitimacy_step(legitimacy: np.ndarray, gains: np.ndarray, losses: np.ndarray,
                    loss_weight: float, social_influence: float,
                    neighbour_mean: np.ndarray) -> np.ndarray:
    """L' = L + gains (1 - L) - loss_weight * losses * L + s * (neighbours' mean - L).

    Gains fill the gap to full legitimacy and losses drain the stock in proportion to what is
    there, so the stock stays in [0, 1] and settles where gains (1 - L) balance losses L.
    """
    new = legitimacy + gains * (1.0 - legitimacy) - loss_weight * losses * legitimacy
    new += social_influence * (neighbour_mean - legitimacy)
    return np.clip(new, 0.0, 1.0, out=new)


def report_compliance(true_compliance: np.ndarray, self_interest: np.ndarray,
                      misreporting: float) -> np.ndarray:
    """What a township reports: true + self_interest * misreporting * (1 - true)."""
    return true_compliance + self_interest * misreporting * (1.0 - true_compliance)


def row_normalise(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Divide every row by its sum (rows summing to zero stay zero)."""
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return (sp.diags(inv.astype(np.float32)) @ matrix).tocsr()
