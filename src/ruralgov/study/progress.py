"""One progress bar for the work that takes a while — the steps of a run (``ruralgov run``),
the runs of a sweep (``ruralgov sweep``, ``ruralgov reproduce``) — built on tqdm.

[`Progress`][ruralgov.study.progress.Progress] writes to stderr (standard output stays for
results), shows done / total, the rate, the time left and, for runs, how many failed:

    sweep smoke:  50%|█████     | 24/48 runs [00:05<00:05, 4.52 runs/s, 0 failed]

In a terminal it redraws one line; in a Jupyter notebook it is a widget (``tqdm.auto``);
written to a file or a pipe (a cluster job's log) it refreshes at most every few seconds.
Disabled (``--quiet``, ``progress=False``) it prints nothing at all.
"""

from __future__ import annotations

import sys
from typing import IO

from tqdm.auto import tqdm

__all__ = ["Progress"]

_FORMAT = ("{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{unit} "
           "[{elapsed}<{remaining}, {rate_noinv_fmt}{postfix}]")


class Progress:
    """A progress bar over ``total`` things (``unit``: ``runs``, ``steps``), ``initial`` of
    them done before it started (a resumed sweep: they do not count towards the rate).

    Use ``update(n, failed)`` as things finish, or call it as ``progress(done, total)`` (the
    callback [`run_scenario`][ruralgov.study.runner.run_scenario] takes); then ``close()``,
    or use it in a ``with`` block.

    ``done`` and ``failed`` count what is done (those done before it started included) and
    what failed.

    Args:
        failures: show how many failed (``update``'s ``failed``).
        enabled: False prints nothing.
        stream: where to write (default stderr).
    """

    def __init__(self, label: str, total: int, *, unit: str = "runs", initial: int = 0,
                 failures: bool = False, enabled: bool = True, stream: IO[str] | None = None):
        stream = stream if stream is not None else sys.stderr
        tty = hasattr(stream, "isatty") and stream.isatty()
        self.failures = failures
        self.done, self.failed = initial, 0
        self.bar = tqdm(total=total, initial=initial, desc=label, unit=f" {unit}",
                        file=stream, disable=not enabled, bar_format=_FORMAT,
                        mininterval=0.2 if tty else 5.0, dynamic_ncols=tty,
                        postfix="0 failed" if failures else None)

    def update(self, n: int = 1, failed: int = 0) -> None:
        """``n`` more are done, ``failed`` of them failed."""
        self.done += n
        self.failed += failed
        if failed and self.failures:
            self.bar.set_postfix_str(f"{self.failed} failed", refresh=False)
        self.bar.update(n)

    def __call__(self, done: int, total: int) -> None:
        """``done`` of ``total`` are done (a callback that counts from the start)."""
        if total != self.bar.total:
            self.bar.total = total
        self.update(done - self.done)

    def close(self) -> None:
        """Draw the final state and end the line."""
        self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
