"""A fixed set of rules split among the departments (rules_total, ODD 5.3 item 5): the number
of departments then changes who issues the rules, not how many there are."""

from __future__ import annotations

import numpy as np
import pytest

from ruralgov.model.county import RuralGovernanceModel
from ruralgov.model.initialise import rule_departments
from ruralgov.model.schema import InputError

SMALL = dict(n_villagers=300, n_townships=1, villages_per_township=3)


def test_rules_are_dealt_round_robin_and_their_number_is_fixed():
    assert rule_departments(3, 2) == [0, 0, 1, 1, 2, 2]  # the first form
    assert rule_departments(3, 2, total=7) == [0, 1, 2, 0, 1, 2, 0]
    with pytest.raises(ValueError, match="rules_total = 2 is below n_departments = 3"):
        rule_departments(3, 1, total=2)
    counts = {}
    for d in (2, 4, 8):
        m = RuralGovernanceModel(seed=1, n_departments=d, rules_total=8, **SMALL)
        assert m.rules.k == 8 and sorted(set(m.rules.department.tolist())) == list(range(d))
        counts[d] = [len(dep.rules_issued) for dep in m.departments]
    assert counts == {2: [4, 4], 4: [2, 2, 2, 2], 8: [1] * 8}


def test_the_same_rules_with_more_departments_have_more_pairs_across_departments():
    """Same seed, same eight rules (costs, stances), only their issuers differ: the pairs of
    rules from different departments (which may contradict each other) grow from 16 to 28."""
    rules = {d: RuralGovernanceModel(seed=2, n_departments=d, rules_total=8, **SMALL).rules
             for d in (2, 8)}
    np.testing.assert_array_equal(rules[2].cost, rules[8].cost)
    np.testing.assert_array_equal(rules[2].stance, rules[8].stance)
    across = {d: int((r.department[:, None] != r.department[None, :]).sum() // 2)
              for d, r in rules.items()}
    assert across == {2: 16, 8: 28}


def test_reach_follows_each_rules_department():
    m = RuralGovernanceModel(seed=3, n_departments=3, rules_total=6, department_reach=0.5,
                             **SMALL)
    dep = m.rules.department[:6]
    for j in range(3):  # the rules of one department reach the same villagers
        rows = m.rules.applies[:6][dep == j]
        assert (rows == rows[0]).all()
    assert not (m.rules.applies[0] == m.rules.applies[1]).all()


def test_an_experiment_with_fewer_rules_than_departments_is_refused():
    from ruralgov.study.experiment import Experiment

    doc = {"title": "t", "description": "d", "scenario": "baseline", "root_seed": 1,
           "parameters": {"rules_total": 4}, "design": {"type": "factorial"},
           "factors": {"n_departments": [2, 8]}}
    with pytest.raises(InputError, match=r"design point 1: rules_total = 4 is below "
                                         r"n_departments = 8"):
        Experiment.from_dict(doc, name="h2")
