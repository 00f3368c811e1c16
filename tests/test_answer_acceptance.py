"""Answers not accepted (ODD §7.9, answer_acceptance): a petitioner accepts the township's
answer with that chance; a refused answer goes to the county at once. At 1 (the default) nothing
is drawn and results are those of the model without it (pinned by the golden test)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ruralgov.model import RuralGovernanceModel

SMALL = {"n_villagers": 6000, "n_townships": 3, "villages_per_township": 5}


def _one_step_apart(acceptance: float):
    """The same step of the same county with every answer accepted and with ``acceptance``:
    the copies draw the same numbers up to the acceptance, so the same petitions are filed,
    answered, suppressed and left waiting."""
    model = RuralGovernanceModel(seed=8, **SMALL)
    for _ in range(25):
        model.step()
    other = copy.deepcopy(model)
    other.p["answer_acceptance"] = acceptance
    model.step()
    other.step()
    return model.series().iloc[-1], other.series().iloc[-1]


def test_a_refused_answer_goes_to_the_county_at_once():
    everyone, nobody = _one_step_apart(0.0)
    assert everyone.petitions_answered > 20
    assert nobody.petitions_answered == everyone.petitions_answered  # answers were given
    assert nobody.petitions_escalated == (everyone.petitions_escalated
                                          + everyone.petitions_answered)


@pytest.mark.parametrize("acceptance", [0.3, 0.7])
def test_answers_are_refused_with_the_complementary_chance(acceptance):
    everyone, some = _one_step_apart(acceptance)
    refused = some.petitions_escalated - everyone.petitions_escalated
    n = everyone.petitions_answered
    sd = np.sqrt(n * acceptance * (1 - acceptance))
    assert abs(refused - (1 - acceptance) * n) < 4 * sd, (refused, n)
