"""Time and peak memory of the model at a given number of villagers.

Usage: python benchmarks/step_scaling.py N [STEPS]

Prints build time, mean time per step (after one warm-up step) and the process's peak resident
memory. Run one size per process so that peak memory belongs to that size alone, e.g.
`for n in 10000 1000000; do python benchmarks/step_scaling.py $n; done`.
"""

import resource
import sys
import time

from ruralgov import RuralGovernanceModel


def main() -> None:
    n = int(sys.argv[1])
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    villages = max(1, n // 100)
    townships = max(1, villages // 20)
    t0 = time.perf_counter()
    model = RuralGovernanceModel(seed=1, n_villagers=n, n_townships=townships,
                                 villages_per_township=max(1, villages // townships),
                                 collect_detail=False)
    build = time.perf_counter() - t0
    model.step()  # warm-up
    t1 = time.perf_counter()
    for _ in range(steps):
        model.step()
    per_step = (time.perf_counter() - t1) / steps
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"villagers={n:,} townships={townships} build_s={build:.2f} step_s={per_step:.4f} "
          f"villager_steps_per_s={n / per_step:,.0f} peak_rss_MiB={peak_mib:,.0f} "
          f"peak_bytes_per_villager={peak_mib * 2**20 / n:,.0f}")


if __name__ == "__main__":
    main()
