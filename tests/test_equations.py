"""The pure decision rules (docs/ODD.md section 7), tested on hand-made arrays."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ruralgov.model import equations


def test_logistic_matches_formula_and_is_in_place():
    x = np.array([-3.0, 0.0, 2.0], dtype=np.float32)
    out = np.empty_like(x)
    res = equations.logistic(x, out=out)
    assert res is out
    np.testing.assert_allclose(res, 1 / (1 + np.exp(-np.array([-3.0, 0.0, 2.0]))), rtol=1e-6)


def test_logit_inverts_logistic_and_orders_draws_like_it():
    u = np.array([0.0, 0.1, 0.5, 0.9], dtype=np.float64)
    x = equations.logit(u.copy(), out=None)
    assert x[0] == -np.inf
    np.testing.assert_allclose(x[1:], np.log(u[1:] / (1 - u[1:])), rtol=1e-12)
    np.testing.assert_allclose(equations.logistic(x[1:].copy()), u[1:], rtol=1e-12)
    # the choice rule: logit(u) < utility exactly when u < logistic(utility)
    rng = np.random.default_rng(3)
    draws, utility = rng.random(10_000), rng.normal(0, 2, 10_000)
    assert np.array_equal(equations.logit(draws.copy()) < utility,
                          draws < equations.logistic(utility.copy()))


def test_perceived_sanction_matches_formula():
    p = np.array([[0.0, 0.2, 1.0], [0.5, 0.5, 0.5]])
    d = np.array([0.0, 0.5, 1.0])
    r = np.array([0.0, 0.5, 1.0])
    got = equations.perceived_sanction(p.copy(), d, 2.0, r)
    want = (p + d * (1 - p)) * 2.0 * (0.5 + r)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[0, 2] == 2.0 * 1.5  # remembered enforcement makes the sanction feel certain


def test_fragmentation_index_bounds():
    assert equations.fragmentation_index(1, 0.0) == 0.0
    assert equations.fragmentation_index(8, 1.0) == 0.0
    assert equations.fragmentation_index(4, 0.0) == 0.75


@settings(max_examples=60, deadline=None)
@given(k=st.integers(2, 12), seed=st.integers(0, 10_000), p=st.floats(0, 1),
       c1=st.floats(0, 1), c2=st.floats(0, 1))
def test_conflict_matrix_exact_count_and_monotone_in_coordination(k, seed, p, c1, c2):
    rng = np.random.default_rng(seed)
    dept = rng.integers(0, 4, size=k)
    u = np.triu(rng.random((k, k)), 1)
    draws = u + u.T
    lo, hi = sorted((c1, c2))
    a = equations.conflict_matrix(draws, dept, p, hi)  # more coordination
    b = equations.conflict_matrix(draws, dept, p, lo)
    assert (a == a.T).all() and not a.diagonal().any()
    assert not (a & (dept[:, None] == dept[None, :])).any(), "same department never conflicts"
    assert not (a & ~b).any(), "more coordination never creates a conflict"
    pairs = int(np.triu(dept[:, None] != dept[None, :], 1).sum())
    assert int(np.triu(b, 1).sum()) == round(p * (1 - lo) * pairs)


def test_conflict_matrix_ignores_inactive_rules():
    dept = np.array([0, 1, 2])
    draws = np.full((3, 3), 0.1)
    m = equations.conflict_matrix(draws, dept, 1.0, 0.0, active=np.array([True, True, False]))
    assert m[0, 1] and not m[:, 2].any()


def test_implementation_fidelity_is_lambda_power_levels():
    assert equations.implementation_fidelity(0.9, 3, 0.0) == 0.9 ** 3
    assert equations.implementation_fidelity(0.9, 2, 0.5) == 0.9 ** 2 * 0.5


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), w=st.floats(0.1, 10), s=st.floats(0, 1))
def test_legitimacy_step_stays_in_unit_interval(seed, w, s):
    rng = np.random.default_rng(seed)
    L = rng.random(50)
    new = equations.legitimacy_step(L, rng.random(50), rng.random(50), w, s, rng.random(50))
    assert ((new >= 0) & (new <= 1)).all()


def test_legitimacy_settles_where_gains_balance_losses():
    L = np.array([0.1, 0.9])
    for _ in range(2000):
        L = equations.legitimacy_step(L, np.full(2, 0.02), np.full(2, 0.06), 1.0, 0.0, L)
    np.testing.assert_allclose(L, 0.02 / (0.02 + 0.06), atol=1e-6)
    # losses weighing double move the equilibrium down: g / (g + 2 l)
    L = np.array([0.5])
    for _ in range(3000):
        L = equations.legitimacy_step(L, np.array([0.02]), np.array([0.02]), 2.0, 0.0, L)
    np.testing.assert_allclose(L, 1 / 3, atol=1e-6)


def test_threshold_cascade_granovetter_chain():
    # Complete graph of 10, thresholds 0, .1, .2, ...: each joiner tips the next one.
    n = 10
    from ruralgov.model.classic import complete_network

    w = complete_network(n)
    thresholds = np.arange(n) / (n - 1)
    willing = np.ones(n, dtype=bool)
    none = np.zeros(n, dtype=bool)
    all_join = equations.threshold_cascade(w, willing, thresholds - 1e-9, none, rounds=50)
    assert all_join.all()
    # Remove the person with threshold 1/9: the cascade stops after the instigator.
    t2 = thresholds.copy()
    t2[1] = 2 / 9
    stuck = equations.threshold_cascade(w, willing, t2 - 1e-9, none, rounds=50)
    assert stuck.sum() == 1


def test_arrest_probability_falls_with_protesters_and_rises_with_force():
    p = equations.arrest_probability(np.array([1.0, 1.0, 5.0]), np.array([0.0, 10.0, 10.0]), 2.3)
    assert p[0] > p[1] and p[2] > p[1]
    np.testing.assert_allclose(p[0], 1 - np.exp(-2.3))


def test_net_protest_risk_deterrence_raises_felt_risk():
    g, L, r, a = (np.array([0.8]), np.array([0.2]), np.array([0.5]), np.array([0.2]))
    assert equations.net_protest_risk(g, L, r, a, 1.0) < equations.net_protest_risk(g, L, r, a, 0.0)


def test_informal_signal_elders_follow_stance():
    peer = np.array([[1.0, 1.0]])  # one rule (row), two villagers (columns)
    stance = np.array([[-0.5, -0.5]])
    sig = equations.informal_signal(peer, stance, 0.5, np.array([False, True]))
    np.testing.assert_allclose(sig[0], [0.25, -0.5])


def test_compliance_utility_enforced_part_is_the_sanction_term():
    n, k = 3, 2
    z = np.zeros((k, n), dtype=np.float32)
    u, enforced = equations.compliance_utility(
        base=0.0, legitimacy=np.full(n, 0.5), w_legitimacy=1.0, sanction=np.ones((k, n)),
        w_enforcement=2.0, attachment=np.zeros(n), signal=z, w_norm=1.0,
        habit=np.full((k, n), 0.5), w_habit=1.0, cost=z, w_cost=1.0, load=z, w_conflict=1.0,
        misconduct=0.0, w_misconduct=1.0)
    np.testing.assert_allclose(u, 2.0)
    np.testing.assert_allclose(u - enforced, 0.0)


def test_report_compliance_overstates_only_with_self_interest():
    true = np.array([0.6, 0.6])
    rep = equations.report_compliance(true, np.array([0.0, 1.0]), 0.5)
    np.testing.assert_allclose(rep, [0.6, 0.8])


def test_any_event_probability_is_one_minus_product_of_misses():
    p = np.array([[0.5, 0.2, 0.0], [0.5, 0.9, 1.0]], dtype=np.float32)  # 2 rules, 3 villagers
    exposed = np.array([[True, False, True], [True, True, False]])
    np.testing.assert_allclose(equations.any_event_probability(p, exposed), [0.75, 0.9, 0.0],
                               rtol=1e-6)


def test_conflict_load_is_the_exact_share_of_conflicting_kept_rules():
    rng = np.random.default_rng(5)
    k, n = 7, 3000
    upper = np.triu(rng.random((k, k)) < 0.5, 1)
    conflicts = upper | upper.T
    kept = rng.random((k, n)) < 0.6
    load = equations.conflict_load(kept, conflicts)
    # by hand: count the conflicting rules each villager keeps, one division
    count = np.array([[sum(conflicts[r, j] and kept[j, i] for j in range(k))
                       for i in range(n)] for r in range(k)], dtype=np.float32)
    assert load.dtype == np.float32
    assert np.array_equal(load, count / np.float32(k - 1))  # exact, not approximately
    assert not equations.conflict_load(kept, np.zeros((k, k), dtype=bool)).any()


def test_conflict_count_equals_the_matrix_product():
    rng = np.random.default_rng(3)
    for k in (1, 2, 5, 12):
        c = rng.random((k, k)) < 0.4
        c = np.triu(c, 1)
        c = c | c.T
        flags = rng.random((k, 50)) < 0.6
        expected = c.astype(np.int64) @ flags.astype(np.int64)
        np.testing.assert_array_equal(equations.conflict_count(flags, c), expected)
