"""Classic models the governance model stands on, as small vectorised reference
implementations that share its rule functions
([`ruralgov.model.equations`][ruralgov.model.equations]).

* Granovetter (1978), "Threshold models of collective behavior": a crowd in which each person
  joins a riot once enough others have joined. The cascade is
  [`ruralgov.model.equations.threshold_cascade`][ruralgov.model.equations.threshold_cascade] on a
  complete network — the same function that runs the protest cascade of the governance model on the
  villagers' network.

* Epstein (2002), "Modeling civil violence: an agent-based computational approach", model I:
  rebellion against a central authority on a torus, with the arrest probability and net risk
  of [`ruralgov.model.equations`][ruralgov.model.equations] that the governance model's
  protest submodel also uses.

They validate the shared rules against published results (tests/test_classic.py;
docs/hypotheses.md section 9).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import optimize, stats

from ruralgov.model import equations

__all__ = ["complete_network", "granovetter_rioters", "granovetter_expected_equilibrium",
           "granovetter_critical_sd", "granovetter_cascade_critical_sd",
           "EpsteinCivilViolence", "EpsteinSequential", "outburst_statistics"]


def complete_network(n: int) -> sp.csr_matrix:
    """Row-normalised weights of a complete network without self-ties: everyone sees the
    share of the *others* who act."""
    if n < 2:
        raise ValueError(f"n = {n}: a crowd needs at least 2 people")
    w = np.full((n, n), 1.0 / (n - 1), dtype=np.float32)
    np.fill_diagonal(w, 0.0)
    return sp.csr_matrix(w)


def granovetter_rioters(thresholds: np.ndarray) -> int:
    """Equilibrium number of rioters in a crowd whose members riot once at least
    ``thresholds[i]`` *others* riot (Granovetter's thresholds as head counts).

    Runs [`ruralgov.model.equations.threshold_cascade`][ruralgov.model.equations.threshold_cascade]
    to its fixed point from nobody rioting. A count threshold t is the share (t - 0.5) / (n - 1) of
    the others, so float rounding cannot move anyone across the boundary.
    """
    t = np.asarray(thresholds, dtype=float)
    n = t.size
    share = ((t - 0.5) / (n - 1)).astype(np.float32)
    active = equations.threshold_cascade(complete_network(n), np.ones(n, dtype=bool), share,
                                     np.zeros(n, dtype=bool), rounds=n + 1)
    return int(active.sum())


def granovetter_expected_equilibrium(mean: float, sd: float, n: int = 100) -> float:
    """Granovetter's equilibrium for normally distributed thresholds, computed as he did from
    the distribution itself: iterate r <- n * P(threshold <= r) from r = 0 to its fixed point
    (thresholds below 0 count as 0)."""
    # The iteration rises monotonically to the smallest fixed point of f(r) = n P(t <= r) - r
    # (f(0) >= 0), which near the critical spread takes thousands of steps: find that point
    # directly — the first sign change of f on a fine grid, then a root finder.
    def f(r):
        return n * stats.norm.cdf(r, loc=mean, scale=sd) - r

    grid = np.linspace(0.0, float(n), 100 * n + 1)
    below = np.flatnonzero(f(grid) < 0)
    if below.size == 0:
        return float(n)
    i = below[0]
    if i == 0:
        return 0.0
    return float(optimize.brentq(f, grid[i - 1], grid[i], xtol=1e-12))


def granovetter_critical_sd(mean: float = 25.0, n: int = 100, lo: float = 1.0,
                            hi: float = 30.0) -> float:
    """The standard deviation of normally distributed thresholds at which the expected
    equilibrium jumps from a few rioters to nearly the whole crowd (bisection)."""
    def big(sd):
        return granovetter_expected_equilibrium(mean, sd, n) > n / 2

    if big(lo) or not big(hi):
        raise ValueError(f"no jump between sd = {lo} and {hi}")
    for _ in range(60):
        mid = (lo + hi) / 2
        if big(mid):
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def granovetter_cascade_critical_sd(mean: float = 25.0, n: int = 100, seeds: int = 30,
                                    sds: np.ndarray | None = None, seed: int = 0
                                    ) -> tuple[float, np.ndarray, np.ndarray]:
    """Granovetter's critical spread found by simulation: for each sd on a grid, ``seeds``
    crowds of ``n`` with thresholds drawn from N(mean, sd) (rounded to head counts, below 0
    counted as 0) run the cascade
    ([`granovetter_rioters`][ruralgov.model.classic.granovetter_rioters]); the critical sd is
    where a logistic curve fitted to the share of crowds rioting in full (over half the
    crowd) crosses one half. Returns (critical sd, the grid, the shares)."""
    sds = np.arange(2.0, 25.01, 0.5) if sds is None else np.asarray(sds, dtype=float)
    rng = np.random.default_rng(seed)
    share = np.empty(sds.size)
    for i, sd in enumerate(sds):
        full = [granovetter_rioters(np.maximum(np.rint(rng.normal(mean, sd, n)), 0)) > n / 2
                for _ in range(seeds)]
        share[i] = np.mean(full)
    def logistic(x, centre, width):
        return 1.0 / (1.0 + np.exp(-(x - centre) / width))

    if not (share.min() < 0.5 < share.max()):
        return float("nan"), sds, share
    (centre, _), _ = optimize.curve_fit(logistic, sds, share,
                                        p0=(float(sds[np.argmax(share > 0.5)]), 1.0))
    return float(centre), sds, share


# ------------------------------------------------------------------ Epstein (2002), model I
class EpsteinCivilViolence:
    """Epstein (2002) civil violence, model I (rebellion against a central authority), on an L x L
    torus, vectorised. Agents: hardship H ~ U(0,1), risk aversion R ~ U(0,1), grievance G = H (1 -
    legitimacy); an agent is active when G - R P > threshold, P = 1 - exp(-k floor(C / A)) with C
    cops and A active agents (counting itself) within ``vision`` — the package's
    [`ruralgov.model.equations.arrest_probability`][ruralgov.model.equations.arrest_probability]
    (``floor=True``) and
    [`ruralgov.model.equations.net_protest_risk`][ruralgov.model.equations.net_protest_risk]. Each
    cop arrests one random active agent within its vision; the arrested go to jail for
    U{0..max_jail} steps, off the grid. Everyone free moves to a random empty site within vision.

    Vectorised departures from Epstein's sequential activation: decisions are synchronous;
    moves are proposed by all at once in a random order and a proposal to a site already
    taken (or claimed earlier in the order) is dropped; cops arrest one after another in a
    random order. ``legitimacy`` may be changed between steps (sudden or gradual drops).
    """

    def __init__(self, seed: int = 0, size: int = 40, agent_density: float = 0.7,
                 cop_density: float = 0.04, vision: int = 7, legitimacy: float = 0.82,
                 k: float = 2.3, threshold: float = 0.1, max_jail: int = 30):
        self.rng = np.random.default_rng(seed)
        self.size, self.vision, self.k, self.threshold = size, vision, k, threshold
        self.max_jail, self.legitimacy = max_jail, legitimacy
        cells = size * size
        n_agents = int(round(agent_density * cells))
        n_cops = int(round(cop_density * cells))
        if n_agents + n_cops > cells:
            raise ValueError("agent_density + cop_density must not exceed 1")
        sites = self.rng.permutation(cells)
        self.agent_pos = sites[:n_agents].copy()
        self.cop_pos = sites[n_agents:n_agents + n_cops].copy()
        self.hardship = self.rng.random(n_agents)
        self.risk_aversion = self.rng.random(n_agents)
        self.active = np.zeros(n_agents, dtype=bool)
        self.jail = np.zeros(n_agents, dtype=np.int64)  # steps left; 0 = free
        # the vision disk (Euclidean radius, as in the NetLogo rebellion model), as offsets
        r = np.arange(-vision, vision + 1)
        dx, dy = np.meshgrid(r, r, indexing="ij")
        disk = (dx ** 2 + dy ** 2 <= vision ** 2)
        self._offsets = np.stack([dx[disk], dy[disk]], axis=1)
        kernel = np.zeros((size, size))
        kernel[dx[disk] % size, dy[disk] % size] = 1.0
        self._kernel_f = np.fft.rfft2(kernel)
        self.history: list[dict[str, float]] = []

    # -------------------------------------------------------------- helpers
    def _in_vision(self, grid: np.ndarray) -> np.ndarray:
        """For every site, the sum of ``grid`` over the vision disk around it (torus)."""
        return np.rint(np.fft.irfft2(np.fft.rfft2(grid) * self._kernel_f,
                                     s=grid.shape)).astype(np.int64)

    def _occupancy(self) -> np.ndarray:
        occ = np.full(self.size * self.size, -1, dtype=np.int64)
        free = self.jail == 0
        occ[self.agent_pos[free]] = np.flatnonzero(free)
        occ[self.cop_pos] = -2  # cops
        return occ

    def _targets(self, pos: np.ndarray) -> np.ndarray:
        off = self._offsets[self.rng.integers(0, len(self._offsets), size=pos.size)]
        x, y = np.divmod(pos, self.size)
        return ((x + off[:, 0]) % self.size) * self.size + (y + off[:, 1]) % self.size

    # -------------------------------------------------------------- one step
    def step(self) -> None:
        n_a = self.agent_pos.size
        free = np.flatnonzero(self.jail == 0)
        # move: everyone free (agents, cops) proposes a site in vision; empty, first claim wins
        movers = np.concatenate([free, n_a + np.arange(self.cop_pos.size)])
        movers = movers[self.rng.permutation(movers.size)]
        pos = np.where(movers < n_a, self.agent_pos[np.minimum(movers, n_a - 1)],
                       self.cop_pos[np.maximum(movers - n_a, 0)])
        target = self._targets(pos)
        occ = self._occupancy()
        ok = occ[target] == -1
        _, first = np.unique(target[ok], return_index=True)
        go = np.flatnonzero(ok)[first]
        who, where = movers[go], target[go]
        agents = who < n_a
        self.agent_pos[who[agents]] = where[agents]
        self.cop_pos[who[~agents] - n_a] = where[~agents]
        # decide (synchronously): active when grievance - risk aversion x P > threshold
        cells = self.size * self.size
        cop_grid = np.bincount(self.cop_pos, minlength=cells).reshape(self.size, self.size)
        act = np.zeros(cells)
        act[self.agent_pos[free][self.active[free]]] = 1.0
        cops_seen = self._in_vision(cop_grid).ravel()
        active_seen = self._in_vision(act.reshape(self.size, self.size)).ravel()
        site = self.agent_pos[free]
        others = active_seen[site] - act[site]  # visible actives besides oneself
        p = equations.arrest_probability(cops_seen[site], others, self.k, floor=True)
        net = equations.net_protest_risk(self.hardship[free], self.legitimacy,
                                     self.risk_aversion[free], p)
        self.active[free] = net > self.threshold
        # arrest: cops one by one, in a random order, each takes one active agent in vision
        occ = self._occupancy()
        arrests = 0
        for c in self.rng.permutation(self.cop_pos.size):
            x, y = divmod(int(self.cop_pos[c]), self.size)
            sites = ((x + self._offsets[:, 0]) % self.size) * self.size + \
                (y + self._offsets[:, 1]) % self.size
            ids = occ[sites]
            ids = ids[ids >= 0]
            ids = ids[self.active[ids]]
            if ids.size:
                a = ids[self.rng.integers(ids.size)]
                self.active[a] = False
                self.jail[a] = self.rng.integers(0, self.max_jail + 1) + 1
                occ[self.agent_pos[a]] = -1
                arrests += 1
        # jail time passes; the released return to a random empty site
        jailed = self.jail > 0
        self.jail[jailed] -= 1
        released = np.flatnonzero(jailed & (self.jail == 0))
        if released.size:
            occ = self._occupancy()
            empty = np.flatnonzero(occ == -1)
            self.agent_pos[released] = self.rng.choice(empty, size=released.size,
                                                       replace=False)
        self.history.append({"active": int(self.active.sum()),
                             "jailed": int((self.jail > 0).sum()), "arrests": arrests,
                             "legitimacy": self.legitimacy})

    def run(self, steps: int, legitimacy=None) -> np.ndarray:
        """Run ``steps`` steps; ``legitimacy`` may be a function of the step number (1, 2, …)
        giving the legitimacy in force. Returns the number of active agents per step."""
        for t in range(1, steps + 1):
            if legitimacy is not None:
                self.legitimacy = float(legitimacy(t))
            self.step()
        return np.array([h["active"] for h in self.history])


class EpsteinSequential:
    """Epstein's model I as Mesa's bundled example runs it
    (``mesa.examples.advanced.epstein_civil_violence``), for docking: the same rules as
    [`EpsteinCivilViolence`][ruralgov.model.classic.EpsteinCivilViolence] — the package's
    [`arrest_probability`][ruralgov.model.equations.arrest_probability] and
    [`net_protest_risk`][ruralgov.model.equations.net_protest_risk] — under Mesa's schedule:

    * every cell independently holds a citizen (``citizen_density``), a cop (``cop_density``)
      or nobody;
    * vision is a von Neumann diamond (|dx| + |dy| <= vision, the centre excluded), on a torus;
    * random sequential activation: citizens and cops together, in a new random order each
      step, each seeing the choices and moves made before it in that step;
    * a citizen in jail stays in its cell (occupying it, neither active nor quiet) and only
      counts its term down; a term drawn from {0, ..., max_jail}, so a term of 0 frees the
      citizen at its next activation;
    * C / A rounded to the nearest whole number, halves to even (Python's ``round``);
    * after deciding (citizen) or arresting (cop), each moves to a random empty cell in its
      vision, if there is one.
    """

    def __init__(self, seed: int = 0, size: int = 40, citizen_density: float = 0.7,
                 cop_density: float = 0.074, vision: int = 7, legitimacy: float = 0.8,
                 k: float = 2.3, threshold: float = 0.1, max_jail: int = 1000):
        if citizen_density + cop_density > 1:
            raise ValueError("citizen_density + cop_density must not exceed 1")
        self.rng = np.random.default_rng(seed)
        self.size, self.k, self.threshold, self.max_jail = size, k, threshold, max_jail
        self.legitimacy = legitimacy
        cells = size * size
        u = self.rng.random(cells)
        citizens = np.flatnonzero(u < citizen_density)
        cops = np.flatnonzero((u >= citizen_density) & (u < citizen_density + cop_density))
        self.n_citizens = citizens.size
        self.pos = np.concatenate([citizens, cops])
        self.occ = np.full(cells, -1, dtype=np.int64)
        self.occ[self.pos] = np.arange(self.pos.size)
        self.hardship = self.rng.random(self.n_citizens)
        self.risk_aversion = self.rng.random(self.n_citizens)
        self.state = np.zeros(self.n_citizens, dtype=np.int8)  # 0 quiet, 1 active, 2 jailed
        self.jail = np.zeros(self.n_citizens, dtype=np.int64)
        self.cop_at = np.zeros(cells, dtype=bool)
        self.cop_at[cops] = True
        self.active_at = np.zeros(cells, dtype=bool)
        r = np.arange(-vision, vision + 1)
        dx, dy = np.meshgrid(r, r, indexing="ij")
        keep = (np.abs(dx) + np.abs(dy) <= vision) & ((dx != 0) | (dy != 0))
        x, y = np.divmod(np.arange(cells), size)
        self._nb = (((x[:, None] + dx[keep]) % size) * size + (y[:, None] + dy[keep]) % size)
        self.history: list[dict[str, float]] = []

    def _move(self, a: int, cells: np.ndarray) -> None:
        empty = cells[self.occ[cells] == -1]
        if empty.size == 0:
            return
        new, old = int(empty[self.rng.integers(empty.size)]), int(self.pos[a])
        self.occ[old], self.occ[new], self.pos[a] = -1, a, new
        if a >= self.n_citizens:
            self.cop_at[old], self.cop_at[new] = False, True
        else:
            self.active_at[new], self.active_at[old] = self.active_at[old], False

    def _citizen(self, a: int) -> None:
        if self.jail[a] > 0:
            self.jail[a] -= 1
            return
        cells = self._nb[self.pos[a]]
        p = equations.arrest_probability(np.float64(self.cop_at[cells].sum()),
                                         np.float64(self.active_at[cells].sum()), self.k,
                                         nearest=True)
        net = equations.net_protest_risk(self.hardship[a], self.legitimacy,
                                         self.risk_aversion[a], p)
        active = bool(net > self.threshold)
        self.state[a] = 1 if active else 0
        self.active_at[self.pos[a]] = active
        self._move(a, cells)

    def _cop(self, c: int) -> None:
        cells = self._nb[self.pos[c]]
        ids = self.occ[cells]
        ids = ids[(ids >= 0) & (ids < self.n_citizens)]
        ids = ids[self.state[ids] == 1]
        if ids.size:
            a = int(ids[self.rng.integers(ids.size)])
            self.jail[a] = self.rng.integers(0, self.max_jail + 1)
            self.state[a] = 2
            self.active_at[self.pos[a]] = False
        self._move(c, cells)

    def step(self) -> None:
        for a in self.rng.permutation(self.pos.size):
            if a < self.n_citizens:
                self._citizen(int(a))
            else:
                self._cop(int(a))
        self.history.append({"active": int((self.state == 1).sum()),
                             "jailed": int((self.state == 2).sum()),
                             "legitimacy": self.legitimacy})

    def run(self, steps: int) -> np.ndarray:
        """Run ``steps`` steps; returns the number of active citizens per step."""
        for _ in range(steps):
            self.step()
        return np.array([h["active"] for h in self.history])


def outburst_statistics(active: np.ndarray, jailed: np.ndarray, citizens: int,
                        sizes: tuple[float, ...] = (0.01, 0.02, 0.05),
                        large: float = 0.02) -> dict[str, float]:
    """Per-run statistics of a civil-violence series (active and jailed citizens per step):
    mean active and jailed fractions; for each size s, the number of outbursts (maximal runs
    of steps with at least s of the citizens active); for outbursts of the ``large`` size, the
    mean waiting time between the starts of consecutive ones and their mean duration (NaN if
    there are too few)."""
    a = np.asarray(active, dtype=float) / citizens
    out = {"active_mean": float(a.mean()),
           "jailed_mean": float(np.asarray(jailed, dtype=float).mean() / citizens)}
    for s in sizes:
        on = np.concatenate([[False], a >= s, [False]])
        starts = np.flatnonzero(~on[:-1] & on[1:])
        ends = np.flatnonzero(on[:-1] & ~on[1:])
        out[f"outbursts_{s:g}"] = float(starts.size)
        if s == large:
            out["waiting_large"] = float(np.diff(starts).mean()) if starts.size > 1 else np.nan
            out["duration_large"] = float((ends - starts).mean()) if starts.size else np.nan
    return out
