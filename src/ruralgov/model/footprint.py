"""How much memory a county needs, estimated from its parameters before it is built.

A county of twenty million villagers fits the registry's bounds but not every machine; building
it under a memory limit used to end in NumPy's ``ArrayMemoryError`` after minutes. The estimate
here is checked first, against the memory the process may still use (the address-space limit,
the control group's limit and the memory the kernel reports available, whichever is least).

The coefficients were measured (peak resident memory of ``run_scenario`` over three steps, less
that of the process before it, at 400,000 villagers): about 150 bytes a villager, 42 for each
rule a villager is subject to (departments × rules per department, per-rule arrays) and 39 for
each tie of the social network (both directions of the sparse matrix and its weights). The
check asks for 1.5 times the estimate: a refusal means the county would not fit even if the
estimate were a third too low.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruralgov.model.schema import InputError

__all__ = ["county_bytes", "available_bytes", "check_fits", "largest"]

PER_VILLAGER = 150
PER_RULE = 42
PER_TIE = 39
MARGIN = 1.5


def county_bytes(params: Mapping[str, Any]) -> int:
    """Estimated bytes the model of a county with these (resolved) parameters needs."""
    n = int(params["n_villagers"])
    rules = (int(params.get("rules_total", 0))
             or int(params["n_departments"]) * int(params["rules_per_department"]))
    ties = float(params["ties_within_village"]) + float(params["ties_between_villages"])
    return int(n * (PER_VILLAGER + PER_RULE * rules + PER_TIE * ties))


def largest(base: Mapping[str, Any], points) -> dict[str, Any]:
    """The parameters of the design point (a table of factor columns over ``base``) whose county
    needs the most memory."""
    import numpy as np

    def col(name):
        return (points[name].to_numpy(dtype=float) if name in points
                else np.full(len(points), float(base[name])))

    if len(points) == 0:
        return dict(base)
    total = col("rules_total") if ("rules_total" in points or "rules_total" in base) else 0.0
    rules = np.where(total > 0, total, col("n_departments") * col("rules_per_department"))
    need = col("n_villagers") * (PER_VILLAGER + PER_RULE * rules
                                 + PER_TIE * (col("ties_within_village")
                                              + col("ties_between_villages")))
    row = points.iloc[int(np.argmax(need))]
    return {**base, **{k: row[k] for k in points.columns}}


def _cgroup_left() -> float:
    """What the control group's limit leaves, counting the page cache the kernel can drop
    (``inactive_file``) as free."""
    base = Path("/sys/fs/cgroup")
    try:
        limit = (base / "memory.max").read_text().strip()
        used = int((base / "memory.current").read_text())
    except (OSError, ValueError):
        return float("inf")
    if limit == "max":
        return float("inf")
    try:
        stat = dict(line.split() for line in (base / "memory.stat").read_text().splitlines())
        used -= int(stat.get("inactive_file", 0))
    except (OSError, ValueError):
        pass
    return float(int(limit) - used)


def _meminfo_available() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return float("inf")


def _address_space_left() -> float:
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return float("inf")
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
        used = pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return float(soft - used)


def available_bytes() -> float:
    """Bytes this process may still allocate: the least of what the address-space limit
    (``ulimit -v``), the control group and the kernel's available memory leave."""
    return min(_address_space_left(), _cgroup_left(), _meminfo_available())


def check_fits(params: Mapping[str, Any], where: str, copies: int = 1) -> None:
    """Refuse a county (``copies`` of it at once) that would not fit in the memory left.

    Raises:
        InputError: naming ``where``, the villagers, the estimate and what is available.
    """
    need = MARGIN * copies * county_bytes(params)
    have = available_bytes()
    if need > have:
        n = int(params["n_villagers"])
        fits = int(n * have / need)
        raise InputError(f"{where}: n_villagers = {n:,}" + (f" ({copies} at once)" if copies > 1
                                                             else "")
                         + f" needs about {need / 2**30:.1f} GiB; this process may use "
                         f"{have / 2**30:.1f} GiB; allowed here: up to about {fits:,} villagers "
                         "(or fewer departments, rules or ties)")
