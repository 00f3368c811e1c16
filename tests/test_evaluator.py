"""The one evaluator (ruralgov.study.evaluator, issue 33 item 2): serial, a local pool or a
Dask cluster give the same results in the tasks' order with progress; what it starts it shuts
down, also on an error; the lever table runs on it (pool and Dask alike)."""

from __future__ import annotations

import concurrent.futures as cf

import pytest

from ruralgov.study.evaluator import evaluator
from ruralgov.study.levers import LEVERS, lever_table


def _square(x: int) -> int:
    return x * x


def test_serial_and_pool_map_in_order_with_progress():
    seen = []
    with evaluator(workers=1, pending=10) as ev:
        assert ev.executor is None and ev.kind == "serial"
        serial = ev.map(_square, range(10), progress=lambda d, n: seen.append((d, n)))
    assert seen[-1] == (10, 10) and len(seen) == 10
    with evaluator(workers=2, pending=10) as ev:
        assert ev.kind == "process pool x2"
        pooled = ev.map(_square, range(10), chunksize=3)
        pool = ev.executor
    assert serial == pooled == [x * x for x in range(10)]
    with pytest.raises(RuntimeError):  # shut down on leaving
        pool.submit(_square, 2)


def test_what_it_started_is_shut_down_on_an_error():
    with pytest.raises(ZeroDivisionError):
        with evaluator(workers=2, pending=4) as ev:
            pool = ev.executor
            raise ZeroDivisionError("a failing study")
    with pytest.raises(RuntimeError):
        pool.submit(_square, 2)


def test_a_given_executor_is_used_and_left_open():
    with cf.ThreadPoolExecutor(2) as given:
        with evaluator(executor=given) as ev:
            assert ev.map(_square, [3, 4]) == [9, 16]
        assert given.submit(_square, 5).result() == 25  # still open


def test_the_lever_table_is_the_same_serially_and_on_dask():
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    lever = [lv for lv in LEVERS if lv.name.startswith("coordination")][:1]
    small = {"n_villagers": 600, "n_townships": 2, "villages_per_township": 2}
    serial = lever_table(lever, seeds=range(3), steps=8, base=small, workers=1)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        on_dask = lever_table(lever, seeds=range(3), steps=8, base=small,
                              scheduler=cluster.scheduler_address)
    assert serial.equals(on_dask)
