"""Property-based tests: random and malformed input never crashes; random valid parameter
sets keep every fraction in [0, 1], produce no NaN and conserve the population."""

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruralgov.io.scenario import load_scenario
from ruralgov.model import RuralGovernanceModel
from ruralgov.model.params import PARAMS, REGISTRY
from ruralgov.model.schema import InputError

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3) |
                      st.dictionaries(st.text(max_size=10), c, max_size=3), max_leaves=8)
param_names = st.sampled_from([p.name for p in PARAMS] + ["bogus", "Coordination", ""])
documents = st.one_of(
    values,
    st.fixed_dictionaries({"title": scalars, "story": scalars},
                          optional={"parameters": st.dictionaries(param_names, values,
                                                                  max_size=5),
                                    "steps": scalars, "seed": scalars, "extra": values}),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents)
def test_random_documents_load_or_fail_cleanly(tmp_path, doc):
    f = tmp_path / "random.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True))
    try:
        sc = load_scenario(f)
    except InputError as err:
        assert str(f) in str(err)
        return
    sc.resolved()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_random_bytes_fail_cleanly(tmp_path, raw):
    f = tmp_path / "raw.yaml"
    f.write_bytes(raw)
    try:
        load_scenario(f)
    except InputError as err:
        assert str(f) in str(err)


def _value(p):
    if p.type == "bool":
        return st.booleans()
    if p.type == "int":
        return st.integers(int(p.lo), int(min(p.hi, p.lo + 60)))
    return st.floats(p.lo, p.hi, allow_nan=False)


SKIP = {"n_villagers", "n_townships", "villages_per_township", "lineages_per_village",
        "cascade_rounds", "elder_extra_ties", "ties_within_lineage", "ties_within_village",
        "ties_between_villages"}
def _coherent(params: dict) -> bool:
    """The documented impossible combinations (schema.check_combinations) left out: random
    valid values of each parameter, not an impossible county."""
    from ruralgov.model.params import defaults
    from ruralgov.model.schema import check_combinations

    try:
        check_combinations({**defaults(), **params})
    except InputError:
        return False
    return True


params_strategy = st.fixed_dictionaries(
    {}, optional={p.name: _value(p) for p in PARAMS if p.name not in SKIP}).filter(_coherent)


@settings(max_examples=40, deadline=None)
@given(params=params_strategy, seed=st.integers(0, 2**32))
def test_random_valid_parameters_keep_the_model_sane(params, seed):
    m = RuralGovernanceModel(seed=seed, n_villagers=300, n_townships=2,
                             villages_per_township=2, collect_detail=False, **params)
    for _ in range(8):
        m.step()
    s = m.series()
    fractions = ["compliance", "evasion", "voluntary_share", "compliance_reported",
                 "compliance_inspected", "legitimacy_mean", "grievance_mean",
                 "norm_attachment_mean", "substitution_index", "implementation_fidelity",
                 "pressure_mean", "capacity_use"]
    for col in fractions[:-1]:
        v = s[col].to_numpy(dtype=float)
        v = v[~np.isnan(v)]
        assert ((v >= -1e-9) & (v <= 1 + 1e-9)).all(), col
    for col in ("compliance", "legitimacy_mean", "grievance_mean", "norm_attachment_mean"):
        assert not s[col].isna().any(), col
    v = m.villagers
    for arr in (v.legitimacy, v.grievance, v.attachment, v.deterrence):
        assert np.isfinite(arr).all() and (arr >= 0).all() and (arr <= 1).all()
    assert m.structure.village_size.sum() == m.n_villagers == 300
    assert (s["protesters"] <= 300).all() and (s["petition_backlog"] >= 0).all()
    assert (v.pet_age >= -1).all()


def test_registry_defaults_are_valid():
    for p in PARAMS:
        assert REGISTRY[p.name] is p
