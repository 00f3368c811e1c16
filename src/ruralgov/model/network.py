"""The villagers' social network, generated directly as a sparse matrix.

Villagers are numbered so that every township, village and lineage is a contiguous block
(township-major, then village, then lineage). Ties are drawn as "stubs": each villager draws a
Poisson number of stubs of each kind and each stub picks a partner uniformly inside the
matching block (own lineage, own village, own township or the whole county). Drawing a
partner is one multiply-add on arrays, so a million villagers take well under a second and no
networkx graph is ever built. The undirected, unweighted adjacency matrix is returned in CSR
form; [`Ties`][ruralgov.model.network.Ties] turns it into what the model reads each step (influence
weights with elders weighted, and exact weighted counts of neighbours with a given behaviour).

See docs/ODD.md, section 7 "network".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["Population", "Ties", "generate_population", "block_partners", "symmetric_adjacency",
           "colour_classes"]


@dataclass
class Population:
    """Who is where, and who knows whom.

    Attributes:
        township, village, lineage: int32 arrays of length N with *global* ids (village ids
            run across the county, lineage ids too).
        elder: bool array, True for informal leaders.
        adjacency: N x N symmetric CSR matrix of 0/1 ties (int8), no self-ties.
        n_townships, n_villages, n_lineages: number of blocks of each kind.
        village_township: township of each village (length n_villages).
        attributes: optional initial villager attributes from field data, by name.
        source: where the population came from ("generated" or file names).
    """

    township: np.ndarray
    village: np.ndarray
    lineage: np.ndarray
    elder: np.ndarray
    adjacency: sp.csr_matrix
    n_townships: int
    n_villages: int
    n_lineages: int
    village_township: np.ndarray
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = "generated"

    @property
    def n(self) -> int:
        return int(self.township.shape[0])

    def degree(self) -> np.ndarray:
        return np.diff(self.adjacency.indptr)


def _even_sizes(total: int, parts: int) -> np.ndarray:
    """Split ``total`` into ``parts`` sizes that differ by at most one."""
    sizes = np.full(parts, total // parts, dtype=np.int64)
    sizes[: total % parts] += 1
    return sizes


def block_partners(rng: np.random.Generator, owners: np.ndarray, block_start: np.ndarray,
                   block_size: np.ndarray) -> np.ndarray:
    """Pick one partner uniformly inside each stub owner's block.

    Args:
        rng: the model's generator.
        owners: block id of each stub's owner.
        block_start: first index of every block.
        block_size: size of every block.

    Returns:
        Partner indices (int64), one per stub.
    """
    u = rng.random(owners.shape[0])
    return block_start[owners] + (u * block_size[owners]).astype(np.int64)


def _stubs(rng: np.random.Generator, n: int, mean: float) -> np.ndarray:
    """Owners of Poisson(mean) stubs for each of n villagers."""
    if mean <= 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    counts = rng.poisson(mean, size=n)
    return np.repeat(np.arange(n, dtype=np.int64), counts)


def symmetric_adjacency(rows: np.ndarray, cols: np.ndarray, n: int) -> sp.csr_matrix:
    """Undirected 0/1 CSR adjacency from directed pairs; self-ties and duplicates removed.

    Built directly in canonical CSR form (sorted, unique column indices per row): both
    directions of every pair are encoded as one int64 key ``row * n + col``, sorted and
    deduplicated. Data are int8 ones; indices int32.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    key = np.concatenate([rows * n + cols, cols * n + rows])
    del rows, cols, keep
    key.sort()
    if key.size:
        key = key[np.concatenate([[True], key[1:] != key[:-1]])]
    src = key // n
    indices = (key - src * n).astype(np.int32)
    del key
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    del src
    if indptr[-1] < 2**31:
        indptr = indptr.astype(np.int32)
    return sp.csr_matrix((np.ones(indices.size, dtype=np.int8), indices, indptr), shape=(n, n))


class Ties:
    """The network as the model reads it every step.

    ``weights`` is the row-normalised influence matrix W (float32, sharing the adjacency's index
    arrays): W_ij = A_ij c_j / sum_l A_il c_l with c_j = ``elder_weight`` for elders, 1 otherwise.

    [`weighted_count`][ruralgov.model.network.Ties.weighted_count] gives, for K binary flags per
    villager (say "kept rule k last step"), sum_j A_ij c_j flag_kj for every villager i and flag k.
    The counts are computed *exactly* in integer arithmetic, several flags per sparse product: each
    flag gets a field of ``bits`` = bit length of the largest weighted degree, so the count of one
    flag never carries into the next, and ``31 // bits`` flags share one int32 word. A whole-number
    ``elder_weight`` (the default, 4) is put into the integer matrix itself; any other comes from a
    second product over the columns of elders only. At the default county this is one sparse
    matrix-vector product for all rules instead of one per rule.
    """

    def __init__(self, adjacency: sp.csr_matrix, elder: np.ndarray, elder_weight: float):
        a = adjacency.tocsr()
        self.adjacency = a
        ones = sp.csr_matrix((np.ones(a.nnz, dtype=np.int32), a.indices, a.indptr),
                             shape=a.shape)
        n = a.shape[0]
        degree = np.diff(a.indptr)
        self.has_neighbours = degree > 0
        col = np.where(elder, np.float32(elder_weight), np.float32(1.0)).astype(np.float32)
        # weighted degree; a padding 0 keeps reduceat's start indices in range when the last
        # villagers have no ties (reduceat gives an empty row the next value: masked below)
        total = np.add.reduceat(np.append(col[a.indices], np.float32(0.0)), a.indptr[:-1])
        total = np.where(self.has_neighbours, total, 0.0).astype(np.float32)
        inv = np.divide(np.float32(1.0), total, out=np.zeros(n, np.float32), where=total > 0)
        data = col[a.indices] * np.repeat(inv, degree)
        self.weights = sp.csr_matrix((data.astype(np.float32), a.indices, a.indptr),
                                     shape=a.shape)
        self._elders = np.flatnonzero(elder)
        self._extra = np.float32(elder_weight - 1.0)
        self._elder_ties = None
        if self._extra == 0 or self._elders.size == 0:
            self._count_matrix, top = ones, int(degree.max(initial=0))
        elif float(elder_weight).is_integer():
            self._count_matrix = sp.csr_matrix(
                (col[a.indices].astype(np.int32), a.indices, a.indptr), shape=a.shape)
            top = int(total.max(initial=0))
        else:
            self._count_matrix, top = ones, int(degree.max(initial=0))
            self._elder_ties = ones[:, self._elders].tocsr()
        del ones
        self.bits = max(1, top.bit_length())
        if self.bits > 31:
            raise ValueError(f"weighted degree {top} is too large to count in int32")
        self.per_word = 31 // self.bits

    def pack(self, flags: np.ndarray, cols=slice(None), codes: list | None = None
             ) -> list[np.ndarray]:
        """Each villager's flags packed into int32 words, ``per_word`` flags a word (of the
        villagers ``cols``; written into ``codes`` if given, e.g. to update a few)."""
        flags = np.asarray(flags, dtype=bool)
        k = flags.shape[0]
        if codes is None:
            codes = [np.zeros(flags.shape[1], dtype=np.int32)
                     for _ in range(0, k, self.per_word)]
        for w, w0 in enumerate(range(0, k, self.per_word)):
            group = flags[w0:w0 + self.per_word]
            code = np.zeros(group.shape[1], dtype=np.int32)
            for j in range(group.shape[0]):
                code += group[j].astype(np.int32) << np.int32(self.bits * j)
            codes[w][cols] = code
        return codes

    def count_packed(self, codes: list[np.ndarray], k: int,
                     block: tuple[sp.csr_matrix, sp.csr_matrix | None] | None = None) -> tuple:
        """The sparse products of packed flags (see
        [`count_words`][ruralgov.model.network.Ties.count_words])."""
        matrix, elder_ties = block if block is not None else (self._count_matrix,
                                                               self._elder_ties)
        words = [matrix @ c for c in codes]
        extra = ([elder_ties @ c[self._elders] for c in codes] if elder_ties is not None
                 else None)
        return k, words, extra

    def _unpack(self, words: list[np.ndarray], k: int, cols) -> np.ndarray:
        out = np.empty((k, len(words[0][cols])), dtype=np.float32)
        mask = np.int32((1 << self.bits) - 1)
        for r in range(k):
            word = words[r // self.per_word][cols]
            out[r] = (word >> np.int32(self.bits * (r % self.per_word))) & mask
        return out

    def row_block(self, rows: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix | None]:
        """The rows of the counting matrices for a fixed set of villagers (see weighted_count)."""
        return (self._count_matrix[rows],
                self._elder_ties[rows] if self._elder_ties is not None else None)

    def count_words(self, flags: np.ndarray,
                    block: tuple[sp.csr_matrix, sp.csr_matrix | None] | None = None
                    ) -> tuple[int, list[np.ndarray], list[np.ndarray] | None]:
        """The sparse products behind
        [`weighted_count`][ruralgov.model.network.Ties.weighted_count], still packed; read a
        slice of villagers out of them with [`unpack`][ruralgov.model.network.Ties.unpack] (so
        the unpacking can run block by block)."""
        flags = np.asarray(flags, dtype=bool)
        if flags.ndim != 2 or flags.shape[1] != self.adjacency.shape[0]:
            raise ValueError(f"flags must be K x {self.adjacency.shape[0]}, got {flags.shape}")
        return self.count_packed(self.pack(flags), flags.shape[0], block)

    def unpack(self, counted: tuple, cols=slice(None)) -> np.ndarray:
        """Weighted counts (K x villagers in ``cols``, float32) from
        [`count_words`][ruralgov.model.network.Ties.count_words]."""
        k, words, extra = counted
        out = self._unpack(words, k, cols)
        if extra is not None:
            out += self._extra * self._unpack(extra, k, cols)
        return out

    def weighted_count(self, flags: np.ndarray,
                       block: tuple[sp.csr_matrix, sp.csr_matrix | None] | None = None
                       ) -> np.ndarray:
        """sum_j A_ij c_j flags[k, j] for every flag k and villager i (K x N, float32).

        With ``block`` (from [`row_block`][ruralgov.model.network.Ties.row_block]), only for that
        block's villagers (K x rows).
        """
        return self.unpack(self.count_words(flags, block))


def colour_classes(adjacency: sp.csr_matrix, rng: np.random.Generator) -> list[np.ndarray]:
    """Split the villagers into independent sets (no two members of a set are tied).

    Jones-Plassmann colouring with random priorities: in each round, every uncoloured villager
    whose priority exceeds that of all its uncoloured neighbours takes the round's colour. Each
    round is one pass over the ties, so a million villagers take seconds, not minutes.

    Returns:
        The members (sorted indices) of each colour, in colour order.
    """
    a = adjacency.tocsr()
    n = a.shape[0]
    priority = rng.random(n)
    uncoloured = np.ones(n, dtype=bool)
    starts = a.indptr[:-1][np.diff(a.indptr) > 0]
    has = np.diff(a.indptr) > 0
    classes = []
    while uncoloured.any():
        live = np.where(uncoloured, priority, -1.0)
        top = np.full(n, -1.0)
        if a.nnz:
            top[has] = np.maximum.reduceat(live[a.indices], starts)
        chosen = uncoloured & (priority > top)
        classes.append(np.flatnonzero(chosen))
        uncoloured &= ~chosen
    return classes


def generate_population(rng: np.random.Generator, *, n_villagers: int, n_townships: int,
                        villages_per_township: int, lineages_per_village: int,
                        ties_within_lineage: float, ties_within_village: float,
                        ties_between_villages: float, cross_township_share: float,
                        elder_share: float, elder_extra_ties: float) -> Population:
    """Generate the county: townships, villages, lineages, elders and their network.

    Every random draw uses ``rng``, so the same generator state gives the same network.

    Raises:
        ValueError: if there are fewer villagers than villages.
    """
    n_villages = n_townships * villages_per_township
    if n_villagers < n_villages:
        raise ValueError(
            f"n_villagers = {n_villagers} is fewer than the number of villages "
            f"(n_townships x villages_per_township = {n_townships} x {villages_per_township} "
            f"= {n_villages}); every village needs at least one villager"
        )
    n = n_villagers
    village_size = _even_sizes(n, n_villages)
    village = np.repeat(np.arange(n_villages, dtype=np.int32), village_size)
    village_start = np.concatenate([[0], np.cumsum(village_size)[:-1]])
    village_township = (np.arange(n_villages) // villages_per_township).astype(np.int32)
    township = village_township[village]
    township_size = np.bincount(township, minlength=n_townships).astype(np.int64)
    township_start = np.concatenate([[0], np.cumsum(township_size)[:-1]])

    # Lineages split each village evenly (position within village * L // size).
    pos = np.arange(n, dtype=np.int64) - village_start[village]
    local = (pos * lineages_per_village) // village_size[village]
    lineage = (village.astype(np.int64) * lineages_per_village + local).astype(np.int32)
    n_lineages = n_villages * lineages_per_village
    lineage_size = np.bincount(lineage, minlength=n_lineages).astype(np.int64)
    lineage_start = np.concatenate([[0], np.cumsum(lineage_size)[:-1]])

    elder = rng.random(n) < elder_share

    rows, cols = [], []
    # Stubs: each villager's Poisson(mean/2) stubs make an expected mean degree of `mean`.
    s = _stubs(rng, n, ties_within_lineage / 2)
    rows.append(s)
    cols.append(block_partners(rng, lineage[s], lineage_start, lineage_size))
    s = _stubs(rng, n, ties_within_village / 2)
    rows.append(s)
    cols.append(block_partners(rng, village[s], village_start, village_size))
    s = _stubs(rng, n, ties_between_villages / 2)
    if s.size:
        leaves = rng.random(s.shape[0]) < cross_township_share
        partner = block_partners(rng, township[s], township_start, township_size)
        partner[leaves] = (rng.random(int(leaves.sum())) * n).astype(np.int64)
        rows.append(s)
        cols.append(partner)
    elders = np.flatnonzero(elder)
    if elders.size and elder_extra_ties > 0:
        s = np.repeat(elders, rng.poisson(elder_extra_ties, size=elders.size))
        rows.append(s)
        cols.append(block_partners(rng, village[s], village_start, village_size))

    adjacency = symmetric_adjacency(np.concatenate(rows), np.concatenate(cols), n)
    return Population(
        township=township, village=village, lineage=lineage, elder=elder,
        adjacency=adjacency, n_townships=n_townships, n_villages=n_villages,
        n_lineages=n_lineages, village_township=village_township,
    )
