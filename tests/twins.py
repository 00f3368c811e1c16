"""Two copies of one county one step apart: the same state and generators up to a parameter
changed in one copy, so the copies draw the same numbers until the rule that parameter governs
(tests of a rule on the same villagers, without sampling noise between runs)."""

from __future__ import annotations

import copy

import pandas as pd

from ruralgov.model import RuralGovernanceModel


def one_step_apart(name: str, value, seed: int, params: dict, warm: int = 25
                   ) -> tuple[pd.Series, pd.Series]:
    """The last series row of the county as it is and of its copy with ``name`` = ``value``,
    both stepped once after ``warm`` common steps."""
    model = RuralGovernanceModel(seed=seed, **params)
    for _ in range(warm):
        model.step()
    other = copy.deepcopy(model)
    other.p[name] = value
    model.step()
    other.step()
    return model.series().iloc[-1], other.series().iloc[-1]
