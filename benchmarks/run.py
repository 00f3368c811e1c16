"""ruralgov's benchmarks: speed, memory and the per-agent yardstick, in one table.

Usage (from the repository root, with the project installed):

    python benchmarks/run.py                 # the full set (make bench); ~10 min, ~6 GB
    python benchmarks/run.py --quick         # small sizes only, for a smoke check
    python benchmarks/run.py --sizes 10000 100000 --out /tmp/bench.json

Every measurement runs in its own subprocess, so that its peak memory belongs to it alone.
Memory is the process's resident set size (RSS) minus the RSS of the same process after its
imports (interpreter, numpy, scipy, pandas, Mesa: ~150 MiB), per villager; "steady" is read
after ``malloc_trim(0)`` so freed memory kept by the C allocator for reuse is not counted.
Times are wall-clock on one core (the model uses no threads; BLAS is limited to one thread).

Writes ``benchmarks/latest.json`` (shape documented in README.md, "Performance") and prints a
table.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")


# ------------------------------------------------------------------ measurements (subprocess)
def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc
        pass


def _county(n: int) -> dict:
    """The default county scaled up: 100 villagers a village, 20 villages a township."""
    villages = max(1, n // 100)
    townships = max(1, villages // 20)
    return dict(n_villagers=n, n_townships=townships,
                villages_per_township=max(1, villages // townships))


def measure_model(n: int, steps: int, shares: bool, random_sequential: bool = False) -> dict:
    import numpy as np  # noqa: F401  (imports count in the baseline)

    from ruralgov import RuralGovernanceModel
    from ruralgov.model.schedule import SCHEDULE

    base = _rss()
    t0 = time.perf_counter()
    model = RuralGovernanceModel(seed=1, collect_detail=False,
                                 random_sequential=random_sequential, **_county(n))
    build = time.perf_counter() - t0
    timings = {f.__name__: 0.0 for f in SCHEDULE}

    def timed(submodel):
        def run(m, scratch):
            t = time.perf_counter()
            submodel(m, scratch)
            timings[submodel.__name__] += time.perf_counter() - t
        return run
    model.submodels = tuple(timed(f) for f in SCHEDULE)  # time each submodel
    model.step()  # warm-up
    for name in timings:
        timings[name] = 0.0
    t1 = time.perf_counter()
    walls, cpus = [], []
    for _ in range(steps):
        w, c = time.perf_counter(), time.process_time()
        model.step()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    step_s = (time.perf_counter() - t1) / steps
    _trim()
    steady = _rss() - base
    total = sum(timings.values())
    out = {"villagers": n, "villager_steps_per_s": n / step_s, "step_s": step_s,
           "build_s": build, "steady_bytes_per_villager": steady / n,
           "peak_bytes_per_villager": (_peak() - base) / n,
           "collect_share": timings["collect"] / total, "steps_timed": steps,
           "rules": int(model.n_rules), "ties": int(model.population.adjacency.nnz),
           "random_sequential": random_sequential, "colours": len(model.structure.colours),
           **_repeats("step", walls, cpus)}
    out["villager_steps_per_cpu_s"] = n / out["step_cpu_median_s"]
    if shares:
        out["submodel_share"] = {k: v / total for k, v in timings.items()}
    # the cost of also collecting the per-village/township/department/rule tables
    t2 = time.perf_counter()
    model.observer.collect_details(model, model.scratch)
    out["collect_detail_s"] = time.perf_counter() - t2
    out["collect_detail_share"] = out["collect_detail_s"] / (step_s + out["collect_detail_s"])
    return out


def _repeats(name: str, walls: list[float], cpus: list[float]) -> dict:
    """Min and median of repeated wall and process-CPU times, and their ratio: on a shared
    machine wall time is inflated by other processes, CPU time much less."""
    import statistics

    return {f"{name}_wall_min_s": min(walls), f"{name}_wall_median_s": statistics.median(walls),
            f"{name}_cpu_min_s": min(cpus), f"{name}_cpu_median_s": statistics.median(cpus),
            f"{name}_wall_cpu_ratio": statistics.median(walls) / max(statistics.median(cpus),
                                                                      1e-9),
            f"{name}_repeats": len(walls)}


FIT_SIZES = (500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)


def measure_fit(steps: int) -> dict:
    """The step's fixed cost and per-villager cost: step CPU = a + b N, fitted by least
    squares over FIT_SIZES (median CPU time of ``steps`` steps at each size)."""

    import numpy as np

    from ruralgov import RuralGovernanceModel

    cpu = [_median_step_cpu(RuralGovernanceModel(seed=1, collect_detail=False, **_county(n)),
                            steps) for n in FIT_SIZES]
    b, a = np.polyfit(np.asarray(FIT_SIZES, dtype=float), np.asarray(cpu), 1)
    return {"sizes": list(FIT_SIZES), "step_cpu_median_s": cpu, "constant_s": float(a),
            "per_villager_s": float(b), "steps_each": steps}


def _median_step_cpu(model, steps: int) -> float:
    """Median process-CPU time of ``steps`` steps after one warm-up step."""
    import statistics

    model.step()
    times = []
    for _ in range(steps):
        c = time.process_time()
        model.step()
        times.append(time.process_time() - c)
    return statistics.median(times)


def measure_ensemble(n: int, sizes: list[int], steps: int) -> list[dict]:
    """Per-run step CPU time of R runs stepped together (an ensemble) against one run alone,
    both measured here (median of ``steps`` steps after one warm-up step)."""

    from ruralgov import RuralGovernanceModel
    from ruralgov.model.ensemble import Ensemble

    single = _median_step_cpu(RuralGovernanceModel(seed=1, collect_detail=False,
                                                   **_county(n)), steps)
    out = []
    for r in sizes:
        x = _median_step_cpu(Ensemble(list(range(1, r + 1)), **_county(n)), steps) / r
        out.append({"runs": r, "villagers": n, "per_run_step_s": x,
                    "single_run_step_s": single, "ratio": single / x})
    return out


#: The headline targets: villager-steps per CPU second on one core, by county size.
TARGETS = {100_000: 20e6, 1_000_000: 10e6}


class _TimedCalls:
    """Stands in for ``target`` (a random generator): every method call adds its process CPU
    time to ``totals[key]``."""

    def __init__(self, target, totals: dict, key: str):
        self._target, self._totals, self._key = target, totals, key

    def __getattr__(self, name):
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def timed(*args, **kwargs):
            c = time.process_time()
            try:
                return attr(*args, **kwargs)
            finally:
                self._totals[self._key] += time.process_time() - c
        return timed


def _timed_products(matrix, totals: dict, key: str):
    """``matrix`` (scipy CSR) whose products ``matrix @ x`` add their CPU time to
    ``totals[key]`` (sharing the matrix's arrays)."""
    class Timed(type(matrix)):
        def __matmul__(self, other):
            c = time.process_time()
            try:
                return super().__matmul__(other)
            finally:
                totals[key] += time.process_time() - c
    return Timed(matrix)


def measure_floor(n: int, steps: int) -> dict:
    """Where a step's time goes against the headline target's budget: the random draws (every
    generator call a step makes, timed inside the steps) and the sparse products over the
    network (neighbours' behaviour, neighbours' legitimacy), which any implementation of this
    model must make with the same streams of draws, and the rest (elementwise arithmetic and
    bookkeeping; the wrappers' own small cost included), also as a number of passes over the
    K x N float32 arrays (one pass: a float32 multiply of two K x N arrays into a third in the
    step's blocks). Medians over the steps; the rest is the median of each step's
    remainder."""
    import statistics

    import numpy as np

    from ruralgov import RuralGovernanceModel

    model = RuralGovernanceModel(seed=1, collect_detail=False, **_county(n))
    model.step()
    totals = {"draws": 0.0, "products": 0.0}
    model.runs.rngs = [_TimedCalls(g, totals, "draws") for g in model.runs.rngs]
    st, ties = model.structure, model.structure.ties
    st.weights = ties.weights = _timed_products(ties.weights, totals, "products")
    ties._count_matrix = _timed_products(ties._count_matrix, totals, "products")
    rows = []
    for _ in range(steps):
        totals.update(draws=0.0, products=0.0)
        c = time.process_time()
        model.step()
        rows.append((time.process_time() - c, totals["draws"], totals["products"]))
    step, draws, products = (statistics.median(x) for x in zip(*rows))
    rest = statistics.median(t - d - q for t, d, q in rows)  # each step's own remainder
    k = model.n_rules
    rng = np.random.default_rng(0)
    a, b = (rng.random((k, n), dtype=np.float32) for _ in range(2))
    out_ = np.empty_like(a)
    passes = []
    for _ in range(9):
        c = time.process_time()
        for blk in st.blocks:  # in the step's cache-sized blocks, as the step works
            np.multiply(a[:, blk], b[:, blk], out=out_[:, blk])
        passes.append(time.process_time() - c)
    one_pass = min(passes)
    budget = n / TARGETS[n] if n in TARGETS else None
    return {"villagers": n, "rules": k, "steps": steps, "step_cpu_median_s": step,
            "draws_cpu_s": draws, "sparse_products_cpu_s": products, "rest_cpu_s": rest,
            "kxn_pass_cpu_s": one_pass, "rest_in_kxn_passes": rest / one_pass,
            "target_villager_steps_per_s": TARGETS.get(n), "budget_s": budget,
            "draws_and_products_share_of_budget": (draws + products) / budget if budget
            else None,
            "rest_passes_within_budget": (budget - draws - products) / one_pass if budget
            else None}


def measure_startup(repeats: int) -> dict:
    """Start-up: ``import ruralgov`` and ``ruralgov --help`` in fresh interpreters, wall and CPU
    time (the children's rusage)."""
    out = {}
    for name, cmd in (("import", [sys.executable, "-c", "import ruralgov"]),
                      ("help", [sys.executable, "-m", "ruralgov", "--help"])):
        walls, cpus = [], []
        for _ in range(repeats):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            walls.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        out.update(_repeats(name, walls, cpus))
    return out


def measure_network(n: int) -> dict:
    import numpy as np

    from ruralgov.model.network import generate_population
    from ruralgov.model.params import defaults

    p = defaults()
    c = _county(n)
    base = _rss()
    t0 = time.perf_counter()
    pop = generate_population(
        np.random.default_rng(1), n_villagers=n, n_townships=c["n_townships"],
        villages_per_township=c["villages_per_township"],
        **{k: p[k] for k in ("lineages_per_village", "ties_within_lineage",
                             "ties_within_village", "ties_between_villages",
                             "cross_township_share", "elder_share", "elder_extra_ties")})
    build = time.perf_counter() - t0
    return {"villagers": n, "build_s": build, "peak_bytes": _peak() - base,
            "ties": int(pop.adjacency.nnz) // 2}


def measure_reference(n: int, steps: int) -> dict:
    sys.path.insert(0, str(HERE))
    from mesa_reference import REFERENCE_SCENARIO, MesaReference

    from ruralgov import RuralGovernanceModel

    c = _county(n)
    ref = MesaReference(1, **c)
    ref.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        ref.step()
    per_agent = n * steps / (time.perf_counter() - t0)
    vec = RuralGovernanceModel(seed=1, collect_detail=False, **c, **REFERENCE_SCENARIO)
    vec.step()
    vsteps = max(20, steps * 20)
    t1 = time.perf_counter()
    for _ in range(vsteps):
        vec.step()
    vectorised = n * vsteps / (time.perf_counter() - t1)
    return {"villagers": n, "per_agent_villager_steps_per_s": per_agent,
            "vectorised_villager_steps_per_s": vectorised, "ratio": vectorised / per_agent,
            "scenario": "benchmarks/mesa_reference.py REFERENCE_SCENARIO"}


def measure_sweep(runs: int) -> dict:
    """Sweep throughput for the standard run (the default scenario at 2,000 villagers, the
    size of every earlier bench, 200 steps):
    the model alone, then `ruralgov sweep` serially, on a process pool of all cores and on a
    local Dask cluster of all cores. Overhead per run = (wall x workers) / runs - mean time of
    a run inside its worker, as a share of that time; the executors' start-up (spawning
    workers that import ruralgov, Mesa, ...) is measured apart, once per sweep."""
    import tempfile

    from ruralgov import RuralGovernanceModel
    from ruralgov.io.results import read_runs
    from ruralgov.study.experiment import load_experiment
    from ruralgov.study.sweep import run_sweep

    t0 = time.perf_counter()
    for seed in range(min(runs, 10)):
        m = RuralGovernanceModel(seed=seed, collect_detail=False, n_villagers=2000)
        for _ in range(200):
            m.step()
    model_s = (time.perf_counter() - t0) / min(runs, 10)
    out = {"runs": runs, "villagers": 2000, "steps": 200, "model_run_s": model_s,
           "run_s": model_s, "runs_per_s": 1 / model_s, "executor": "model alone, one core",
           "executors": []}
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "bench.yaml"
        f.write_text("title: bench\ndescription: sweep throughput\nscenario: baseline\n"
                     "parameters: {n_villagers: 2000}\n"  # the standard run of every bench
                     f"steps: 200\nreplications: {runs}\nroot_seed: 1\n"
                     "design: {type: factorial}\nfactors: {coordination: [0.5]}\n")
        exp = load_experiment(f)
        # Executors are started and warmed (each worker has imported ruralgov) before timing:
        # start-up is a fixed cost per sweep, reported apart from the per-run overhead.
        from ruralgov.study.sweep import _process_pool, default_batch, execute_batch

        warm = {"scenario": exp.scenario, "base": {}, "steps": 1, "outputs": {},
                "all_params": {}, "runs": []}
        setups = [("serial, one run at a time", None, 0.0), ("serial", None, 0.0)]
        t1 = time.perf_counter()
        pool = _process_pool(cores)
        list(pool.map(execute_batch, [warm] * cores))
        setups.append((f"process pool x{cores}", pool, time.perf_counter() - t1))
        cluster = client = None
        try:
            from distributed import Client, LocalCluster

            t1 = time.perf_counter()
            cluster = LocalCluster(n_workers=cores, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
            client.gather(client.map(execute_batch, [warm] * cores, pure=False))
            setups.append((f"dask LocalCluster x{cores}", client.get_executor(),
                           time.perf_counter() - t1))
        except ImportError:
            pass
        try:
            for name, executor, startup in setups:
                dest = Path(tmp) / name.replace(" ", "_").replace(",", "")
                workers = 1 if executor is None else cores
                batch = 1 if "one run at a time" in name else None  # default: ensembles
                t1, c1 = time.perf_counter(), time.process_time()
                run_sweep(exp, dest, progress=False, workers=workers, executor=executor,
                          batch=batch)
                wall, cpu = time.perf_counter() - t1, time.process_time() - c1
                mean_run = float(read_runs(dest).wall_s.mean())
                row = {"executor": name, "workers": workers, "wall_s": wall,
                       "batch": 1 if batch == 1 else default_batch(exp),
                       "startup_s": startup, "runs_per_s": runs / wall,
                       "speedup_vs_serial": None, "mean_run_s": mean_run,
                       "overhead_share": (wall * workers / runs - mean_run) / mean_run}
                if executor is None:  # in this process: its CPU time is the sweep's
                    row.update(cpu_s=cpu, runs_per_cpu_s=runs / cpu, wall_over_cpu=wall / cpu)
                out["executors"].append(row)
        finally:
            pool.shutdown()
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
    alone, serial = out["executors"][:2]
    for e in out["executors"]:
        e["speedup_vs_serial"] = e["runs_per_s"] / serial["runs_per_s"]
    # the target is judged on CPU time (the machine is shared); the wall-time ratio beside it
    out["ensemble_vs_one_at_a_time"] = serial["runs_per_cpu_s"] / alone["runs_per_cpu_s"]
    out["ensemble_vs_one_at_a_time_wall"] = serial["runs_per_s"] / alone["runs_per_s"]
    return out


# ------------------------------------------------------------------ driver
def _child(kind: str, *args) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, *map(str, args)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr else "failed",
                "args": list(args)}
    return json.loads(res.stdout)


def measure_threads(n: int, steps: int) -> dict:
    """Two runs of ``n`` villagers at once, as a two-worker sweep or a busy laptop has them:
    in the default environment (BLAS free to start threads) and with one thread each. With no
    multi-threaded BLAS inside a step the two are alike (ratio about 1)."""
    def pair(env: dict) -> float:
        cmd = [sys.executable, __file__, "--child", "model", str(n), str(steps), "0"]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
                 for _ in range(2)]
        outs = [json.loads(p.communicate()[0]) for p in procs]
        return max(o["step_wall_median_s"] for o in outs)

    default = {k: v for k, v in os.environ.items()
               if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    one = {**default, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    d, o = pair(default), pair(one)
    return {"villagers": n, "two_at_once_default_step_s": d,
            "two_at_once_one_thread_step_s": o, "ratio": d / o}


def machine() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import mesa
    import numpy
    import scipy

    import ruralgov
    from ruralgov.io.provenance import git_revision

    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                / 2**30, 1),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "mesa": mesa.__version__,
            "ruralgov": ruralgov.__version__, "git_revision": git_revision(),
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+",
                    default=[10_000, 100_000, 1_000_000, 10_000_000])
    ap.add_argument("--reference-sizes", type=int, nargs="+", default=[1_000, 10_000])
    ap.add_argument("--quick", action="store_true", help="small sizes only (smoke check)")
    ap.add_argument("--sweep-runs", type=int, default=None,
                    help="runs of the default scenario in the sweep timings "
                         "(default 256; 8 if --quick)")
    ap.add_argument("--out", type=Path, default=HERE / "latest.json")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        kind, *args = a.child
        fn = {"model": lambda n, s, sh, rs="0": measure_model(int(n), int(s), sh == "1",
                                                              rs == "1"),
              "network": lambda n: measure_network(int(n)),
              "reference": lambda n, s: measure_reference(int(n), int(s)),
              "sweep": lambda r: measure_sweep(int(r)),
              "fit": lambda s: measure_fit(int(s)),
              "ensemble": lambda n, s, *rs: measure_ensemble(int(n), [int(r) for r in rs],
                                                              int(s)),
              "startup": lambda r: measure_startup(int(r)),
              "floor": lambda n, s: measure_floor(int(n), int(s))}[kind]
        print(json.dumps(fn(*args)))
        return 0
    if a.quick:
        a.sizes, a.reference_sizes = [10_000, 100_000], [1_000]
    biggest = max(s for s in a.sizes if s <= 1_000_000) if any(
        s <= 1_000_000 for s in a.sizes) else a.sizes[0]
    result = {"machine": machine(), "model": [], "network": [], "reference": [], "sweep": {},
              "update_schemes": []}
    print(f"ruralgov benchmarks on {result['machine']['cpu']} "
          f"({result['machine']['cores']} cores), {result['machine']['date']}", flush=True)
    for n in a.sizes:
        steps = 20 if n <= 100_000 else (5 if n <= 1_000_000 else 3)
        print(f"  model {n:>12,} villagers ...", end="", flush=True)
        r = _child("model", n, steps, "1" if n == biggest else "0")
        result["model"].append(r)
        print(f" {r.get('villager_steps_per_s', float('nan')) / 1e6:6.2f} M villager-steps/s",
              flush=True)
        print(f"  network {n:>10,} villagers ...", end="", flush=True)
        r = _child("network", n)
        result["network"].append(r)
        print(f" {r.get('build_s', float('nan')):6.2f} s", flush=True)
    for m in result["model"]:  # the cost of random-sequential updating (graph colouring)
        n = m.get("villagers")
        if n is None or n > 1_000_000 or "error" in m:
            continue
        print(f"  random-sequential {n:>9,} villagers ...", end="", flush=True)
        r = _child("model", n, m["steps_timed"], "0", "1")
        if "error" not in r:
            r = {"villagers": n, "synchronous_step_s": m["step_s"],
                 "random_sequential_step_s": r["step_s"], "cost_ratio": r["step_s"] / m["step_s"],
                 "colours": r["colours"], "build_s": r["build_s"]}
            print(f" {r['cost_ratio']:.1f}x the synchronous step", flush=True)
        result["update_schemes"].append(r)
    for n in a.reference_sizes:
        print(f"  per-agent reference {n:>7,} villagers ...", end="", flush=True)
        r = _child("reference", n, 5 if n <= 1_000 else 2)
        result["reference"].append(r)
        print(f" ratio {r.get('ratio', float('nan')):,.0f}x", flush=True)
    print("  per-step constant and per-villager slope ...", end="", flush=True)
    result["fit"] = _child("fit", 5 if a.quick else 20)
    print(f" {result['fit'].get('constant_s', float('nan')) * 1e6:,.0f} us + "
          f"{result['fit'].get('per_villager_s', float('nan')) * 1e9:,.1f} ns x N", flush=True)
    result["floor"] = []
    for n in [n for n in a.sizes if n in TARGETS] or [biggest]:
        print(f"  draws, sparse products and the rest at {n:,} villagers ...", end="",
              flush=True)
        r = _child("floor", n, 5)
        result["floor"].append(r)
        if "error" not in r:
            print(f" {r['draws_cpu_s'] * 1e3:.1f} + {r['sparse_products_cpu_s'] * 1e3:.1f} + "
                  f"{r['rest_cpu_s'] * 1e3:.1f} ms", flush=True)
    sizes = [1, 8, 64] if a.quick else [1, 7, 16, 64]
    print(f"  ensembles of {', '.join(map(str, sizes))} runs of 2,000 villagers ...", end="",
          flush=True)
    result["ensemble"] = _child("ensemble", 2000, 5 if a.quick else 20, *sizes)
    print(" per-run step " + ", ".join(f"{e['ratio']:.2f}x" for e in result["ensemble"]
                                       if isinstance(e, dict) and "ratio" in e)
          + " less than a run alone", flush=True)
    n_threads = 20_000 if a.quick else 100_000
    print(f"  two runs of {n_threads:,} at once, default vs one thread ...", end="", flush=True)
    try:
        result["threads"] = measure_threads(n_threads, 5 if a.quick else 10)
        print(f" ratio {result['threads']['ratio']:.2f}", flush=True)
    except (OSError, ValueError, KeyError) as err:  # pragma: no cover - reported, not fatal
        result["threads"] = {"error": str(err)}
    print("  start-up ...", end="", flush=True)
    result["startup"] = _child("startup", 3 if a.quick else 7)
    print(f" import {result['startup'].get('import_cpu_median_s', float('nan')):.2f} s CPU, "
          f"--help {result['startup'].get('help_cpu_median_s', float('nan')):.2f} s CPU",
          flush=True)
    runs = a.sweep_runs or (8 if a.quick else 256)  # 256: each of two workers steps 64
    print(f"  sweeps of {runs} standard runs (serial, process pool, Dask) ...", end="",
          flush=True)
    result["sweep"] = _child("sweep", runs)
    print(f" {result['sweep'].get('run_s', float('nan')):.3f} s a run", flush=True)
    from ruralgov.io.files import write_json

    write_json(result, a.out)
    print(table(result))
    print(f"written {a.out}")
    return 0


def table(r: dict) -> str:
    lines = ["", "| villagers | M villager-steps/s | step (s) | step CPU min / median (s) "
             "| wall/CPU | build (s) | steady B/villager | peak B/villager | collect share "
             "| network build (s) | network peak (MiB) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m, w in zip(r["model"], r["network"]):
        if "error" in m or "error" in w:
            lines.append(f"| {m.get('args')} | error: {m.get('error') or w.get('error')} |")
            continue
        lines.append(
            f"| {m['villagers']:,} | {m['villager_steps_per_s'] / 1e6:.1f} | {m['step_s']:.4f} "
            f"| {m.get('step_cpu_min_s', float('nan')):.4f} / "
            f"{m.get('step_cpu_median_s', float('nan')):.4f} "
            f"| {m.get('step_wall_cpu_ratio', float('nan')):.2f} "
            f"| {m['build_s']:.2f} | {m['steady_bytes_per_villager']:.0f} "
            f"| {m['peak_bytes_per_villager']:.0f} | {m['collect_share']:.1%} "
            f"| {w['build_s']:.2f} | {w['peak_bytes'] / 2**20:.0f} |")
    shares = next((m["submodel_share"] for m in r["model"] if "submodel_share" in m), None)
    if shares:
        n = next(m["villagers"] for m in r["model"] if "submodel_share" in m)
        lines += ["", f"Share of a step by submodel at {n:,} villagers: " + ", ".join(
            f"{k} {v:.0%}" for k, v in sorted(shares.items(), key=lambda kv: -kv[1])
            if v >= 0.01)]
    lines += ["", "| villagers | per-agent Mesa (villager-steps/s) | vectorised | ratio |",
              "|---:|---:|---:|---:|"]
    for x in r["reference"]:
        if "error" in x:
            lines.append(f"| {x.get('args')} | error: {x['error']} |")
            continue
        lines.append(f"| {x['villagers']:,} | {x['per_agent_villager_steps_per_s']:,.0f} "
                     f"| {x['vectorised_villager_steps_per_s']:,.0f} | {x['ratio']:,.0f}x |")
    if r.get("update_schemes"):
        lines += ["", "| villagers | synchronous step (s) | random-sequential step (s) | cost "
                      "| colours |",
                  "|---:|---:|---:|---:|---:|"]
        for x in r["update_schemes"]:
            if "error" in x:
                continue
            lines.append(f"| {x['villagers']:,} | {x['synchronous_step_s']:.4f} "
                         f"| {x['random_sequential_step_s']:.4f} | {x['cost_ratio']:.1f}x "
                         f"| {x['colours']} |")
    f = r.get("fit", {})
    if "constant_s" in f:
        lines += ["", f"Step CPU time = {f['constant_s'] * 1e6:,.0f} us + "
                  f"{f['per_villager_s'] * 1e9:,.1f} ns x villagers (least squares over "
                  f"{', '.join(f'{n:,}' for n in f['sizes'])} villagers)."]
    floors = [x for x in r.get("floor", []) if "error" not in x]
    if floors:
        lines += ["", "| villagers | step CPU (s) | random draws | sparse products | the rest "
                      "| rest in K x N passes | target budget | draws + products of budget "
                      "| passes left in budget |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for x in floors:
            budget = x["budget_s"]
            lines.append(
                f"| {x['villagers']:,} | {x['step_cpu_median_s']:.4f} "
                f"| {x['draws_cpu_s']:.4f} | {x['sparse_products_cpu_s']:.4f} "
                f"| {x['rest_cpu_s']:.4f} | {x['rest_in_kxn_passes']:.0f} "
                + (f"| {budget:.4f} | {x['draws_and_products_share_of_budget']:.0%} "
                   f"| {x['rest_passes_within_budget']:.0f} |" if budget else "| - | - | - |"))
    ens = [e for e in r.get("ensemble", []) if isinstance(e, dict) and "ratio" in e]
    if ens:
        lines += ["", "| runs stepped together | villagers each | per-run step CPU (s) "
                      "| one run alone (s) | ratio |", "|---:|---:|---:|---:|---:|"]
        lines += [f"| {e['runs']} | {e['villagers']:,} | {e['per_run_step_s']:.5f} "
                  f"| {e['single_run_step_s']:.5f} | {e['ratio']:.2f}x |" for e in ens]
    th = r.get("threads", {})
    if "ratio" in th:
        lines += ["", f"Two runs of {th['villagers']:,} villagers at once: step "
                  f"{th['two_at_once_default_step_s']:.4f} s with default threading, "
                  f"{th['two_at_once_one_thread_step_s']:.4f} s with one thread each "
                  f"(ratio {th['ratio']:.2f})."]
    st = r.get("startup", {})
    if "import_cpu_median_s" in st:
        lines += ["", f"Start-up (median CPU): import ruralgov {st['import_cpu_median_s']:.2f} s, "
                  f"ruralgov --help {st['help_cpu_median_s']:.2f} s."]
    s = r["sweep"]
    if "run_s" in s:
        lines += ["", f"Standard run (default scenario, 2,000 villagers, 200 steps): "
                  f"{s['run_s']:.3f} s of model time.", "",
                  "| sweep executor | workers | runs/s | speed-up | overhead per run "
                  "| start-up (once) |", "|---|---:|---:|---:|---:|---:|"]
        for e in s.get("executors", []):
            lines.append(f"| {e['executor']} (batch {e.get('batch', 1)}) | {e['workers']} "
                         f"| {e['runs_per_s']:.2f} "
                         f"| {e['speedup_vs_serial']:.2f}x | {e['overhead_share']:.1%} "
                         f"| {e.get('startup_s', 0.0):.1f} s |")
        if "ensemble_vs_one_at_a_time" in s:
            lines += ["", f"Ensembles: {s['ensemble_vs_one_at_a_time']:.2f}x the runs per "
                      "CPU second of one run at a time, on one core"
                      + (f" ({s['ensemble_vs_one_at_a_time_wall']:.2f}x in wall time)."
                         if "ensemble_vs_one_at_a_time_wall" in s else ".")]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
