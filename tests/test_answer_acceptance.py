"""Answers not accepted (ODD §7.9, answer_acceptance): a petitioner accepts the township's
answer with that chance; a refused answer goes to the county at once. At 1 (the first form) nothing
is drawn and results are those of the model without it (pinned by the golden test)."""

from __future__ import annotations

import numpy as np
import pytest

from ruralgov.model.params import UNCALIBRATED
from tests.twins import one_step_apart

# the county these rules were written in (the defaults before calibration), where the
# events they count are frequent; each test sets what it checks
SMALL = {**UNCALIBRATED, **{"n_villagers": 6000, "n_townships": 3, "villages_per_township": 5}}


def _one_step_apart(acceptance: float):
    """Every answer accepted and ``acceptance``, in the same step of the same county: the same
    petitions are filed, answered, suppressed and left waiting."""
    return one_step_apart("answer_acceptance", acceptance, seed=8, params=SMALL)


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
