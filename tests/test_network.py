"""The network generator (docs/ODD.md section 7, network)."""

import numpy as np
import pytest

from ruralgov.network import generate_population

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
