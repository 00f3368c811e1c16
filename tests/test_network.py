"""The network generator (docs/ODD.md section 7, network)."""

import numpy as np
import pytest

from ruralgov.model.network import generate_population

KW = dict(n_townships=3, villages_per_township=4, lineages_per_village=3,
          ties_within_lineage=6.0, ties_within_village=2.0, ties_between_villages=1.0,
          cross_township_share=0.2, elder_share=0.03, elder_extra_ties=10.0)


def make(seed=0, n=3000, **kw):
    return generate_population(np.random.default_rng(seed), n_villagers=n, **{**KW, **kw})


def test_structure_blocks_are_contiguous_and_complete():
    pop = make()
    assert pop.n == 3000
    assert (np.diff(pop.township) >= 0).all() and (np.diff(pop.village) >= 0).all()
    assert (np.diff(pop.lineage) >= 0).all()
    sizes = np.bincount(pop.village)
    assert sizes.sum() == pop.n and sizes.max() - sizes.min() <= 1
    assert (pop.village_township[pop.village] == pop.township).all()
    assert pop.n_lineages == 3 * 4 * 3


def test_adjacency_symmetric_binary_no_self_ties():
    a = make().adjacency
    assert (a != a.T).nnz == 0
    assert a.diagonal().sum() == 0
    assert set(np.unique(a.data)) == {1.0}


def test_ties_mostly_inside_lineage_and_village():
    pop = make()
    a = pop.adjacency.tocoo()
    same_lineage = (pop.lineage[a.row] == pop.lineage[a.col]).mean()
    same_village = (pop.village[a.row] == pop.village[a.col]).mean()
    assert same_lineage > 0.5
    assert same_village > 0.8


def test_mean_degree_close_to_parameters():
    pop = make(n=20000, elder_share=0.0)
    expected = KW["ties_within_lineage"] + KW["ties_within_village"] + KW["ties_between_villages"]
    # duplicates and self-ties are dropped, so slightly below the sum of the means
    assert 0.9 * expected < pop.degree().mean() <= expected


def test_elders_are_better_connected():
    pop = make(n=20000)
    deg = pop.degree()
    assert deg[pop.elder].mean() > deg[~pop.elder].mean() + 5


def test_same_seed_same_network_different_seed_different():
    a, b, c = make(1).adjacency, make(1).adjacency, make(2).adjacency
    assert (a != b).nnz == 0
    assert (a != c).nnz > 0


def test_fewer_villagers_than_villages_is_refused_with_values():
    with pytest.raises(ValueError, match=r"n_villagers = 5 .* 3 x 4 = 12"):
        make(n=5)


@pytest.mark.parametrize("seed", [0, 1])
def test_colour_classes_are_independent_sets_covering_everyone_once(seed):
    from ruralgov.model.network import colour_classes

    pop = make(seed)
    classes = colour_classes(pop.adjacency, np.random.default_rng(seed))
    colour = np.full(pop.n, -1)
    for c, members in enumerate(classes):
        assert (colour[members] == -1).all()  # nobody in two sets
        colour[members] = c
    assert (colour >= 0).all()
    a = pop.adjacency.tocoo()
    assert (colour[a.row] != colour[a.col]).all()  # no tie inside a set
    assert len(classes) <= np.diff(pop.adjacency.indptr).max() + 1 + 20  # a handful, not N


def test_ties_weighted_count_is_exact_for_any_elder_weight():
    import scipy.sparse as sp

    from ruralgov.model.network import Ties

    pop = make(3)
    flags = np.random.default_rng(0).random((7, pop.n)) < 0.6  # 7 flags: two packed words
    a = pop.adjacency.astype(float)
    for w in (1.0, 2.5, 4.0, 7.0):
        ties = Ties(pop.adjacency, pop.elder, w)
        expected = (a @ sp.diags(np.where(pop.elder, w, 1.0)) @ flags.T.astype(float)).T
        np.testing.assert_allclose(ties.weighted_count(flags), expected, rtol=0, atol=1e-4)
        rows = np.arange(0, pop.n, 7)
        np.testing.assert_allclose(ties.weighted_count(flags, ties.row_block(rows)),
                                   expected[:, rows], rtol=0, atol=1e-4)
        w_sum = np.asarray(ties.weights.sum(axis=1)).ravel()
        np.testing.assert_allclose(w_sum[np.diff(pop.adjacency.indptr) > 0], 1.0, rtol=1e-5)
