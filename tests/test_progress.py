"""The one progress bar (ruralgov.study.progress): counts, failures, rate and time left on
stderr; nothing at all when quiet — for a run's steps and a sweep's runs alike."""

from __future__ import annotations

import io
import re

from ruralgov.app.cli import main
from ruralgov.study.progress import Progress


def test_the_bar_shows_counts_failures_rate_and_time_left():
    stream = io.StringIO()
    with Progress("sweep smoke", 4, unit="runs", initial=1, failures=True,
                  stream=stream) as bar:
        bar.update(2, failed=1)
        bar.update(1)
    assert (bar.done, bar.failed) == (4, 1)
    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    assert last.startswith("sweep smoke: 100%")
    assert "4/4 runs" in last and "1 failed" in last
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, +[\d.]+ runs/s, 1 failed\]$", last), last


def test_the_callback_form_counts_steps_from_the_start():
    stream = io.StringIO()
    with Progress("ruralgov run baseline", 10, unit="steps", stream=stream) as bar:
        for done in range(1, 11):
            bar(done, 10)
    assert bar.done == 10
    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    assert "10/10 steps" in last and "steps/s" in last and "failed" not in last


def test_a_disabled_bar_prints_nothing():
    stream = io.StringIO()
    with Progress("quiet", 5, enabled=False, stream=stream) as bar:
        bar.update(3, failed=1)
        bar(5, 5)
    assert stream.getvalue() == "" and bar.done == 5 and bar.failed == 1


def test_cli_run_shows_the_bar_on_stderr_unless_quiet(tmp_path, capsys):
    argv = ["run", "baseline", "--steps", "3", "--set", "n_villagers=300", "--no-detail",
            "--no-figure"]
    assert main(argv + ["--out", str(tmp_path / "a")]) == 0
    out, err = capsys.readouterr()
    assert "ruralgov run baseline: 100%" in err and "3/3 steps" in err
    assert "steps/s" not in out  # results on stdout, progress on stderr
    assert main(argv + ["--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
