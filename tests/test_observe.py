"""Observation apart from the dynamics (docs/ODD.md 7.15): the observer's reporter table is the
one list of measures; every configuration records the same columns in the same order."""

from __future__ import annotations

from ruralgov.model.measures import SERIES_MEASURES
from ruralgov.model.observe import SERIES, TALLIED
from ruralgov.model.params import MECHANISMS
from tests.conftest import run_model


def test_every_tally_a_submodel_writes_is_a_declared_reporter():
    m = run_model(steps=12, campaign=True, campaign_start=2, scandal=True, scandal_start=3,
                  participation=0.1, hardship_mean=0.7, protest_threshold=0.05)
    declared = {r.name for r in TALLIED}
    assert m.scratch.tally, "the submodels tallied nothing"
    assert set(m.scratch.tally) <= declared, set(m.scratch.tally) - declared


def test_switching_mechanisms_off_keeps_the_columns_and_their_order():
    on = run_model(steps=3).series()
    off = run_model(steps=3, **{k: False for k in MECHANISMS}).series()
    assert list(on.columns) == list(off.columns) == ["step", *[
        n for n in SERIES_MEASURES if n != "compliance_campaign"]]
    # what a switched-off mechanism reports: nothing happened (0), or not defined (NaN)
    assert (off[["petitions_new", "protesters", "sanctions", "participants"]] == 0).all().all()
    assert off["response_time"].isna().all() and off["inclusion_error"].isna().all()


def test_the_campaign_column_exists_only_with_a_campaign():
    assert "compliance_campaign" not in run_model(steps=2).series()
    assert "compliance_campaign" in run_model(steps=2, campaign=True).series()
    assert [r.name for r in SERIES][-1] == "compliance_campaign"


def test_mesa_batch_run_works_and_agrees_with_a_direct_run():
    import mesa
    import pandas as pd

    from ruralgov.model import RuralGovernanceModel

    small = dict(n_villagers=300, n_townships=1, villages_per_township=3, collect_detail=False)
    rows = pd.DataFrame(mesa.batch_run(
        RuralGovernanceModel, {"coordination": [0.0, 1.0], "seed": [4], **small},
        max_steps=6, number_processes=1, data_collection_period=1, display_progress=False))
    assert sorted(rows.RunId.unique()) == [0, 1]
    later = rows[rows.Step > 0]
    assert (later.Step == later.step).all()  # Mesa's Step t is the record after step t
    assert rows[rows.Step == 0].compliance.isna().all()  # nothing recorded before step 1
    direct = RuralGovernanceModel(seed=4, coordination=1.0, **small)
    for _ in range(6):
        direct.step()
    got = later[later.coordination == 1.0].set_index("Step").compliance
    expected = direct.series().set_index("step").compliance.loc[got.index]
    pd.testing.assert_series_equal(got, expected, check_names=False)
