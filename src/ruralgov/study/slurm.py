"""Job scripts for a SLURM cluster: an experiment's sweep as a job array of shards and its
analysis as a job that waits for the array (``ruralgov slurm``).

The array's size comes from the experiment's run count (``runs_per_task`` runs a task, or
``shards`` given); each task runs ``ruralgov sweep … --shard $SLURM_ARRAY_TASK_ID/N`` into one
results folder, which is safe for concurrent writers and resumable, and whose locks are owned
by the SLURM job (a task requeued onto another node takes over its own lock at once,
[`ruralgov.io.locks`][ruralgov.io.locks]). The memory line is an estimate from the largest
county of the design ([`county_bytes`][ruralgov.model.footprint.county_bytes]). Site settings
the project cannot know (account, partition, how to activate the environment) are left as
placeholders that stop the job with a message until they are filled in.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from pathlib import Path

from ruralgov.model.schema import InputError

__all__ = ["JobSettings", "job_scripts", "write_job_scripts", "SCRIPTS"]

SCRIPTS = ("sweep.sbatch", "analyze.sbatch", "submit.sh")
"""The files written: the array job, the analysis job and the script that submits both."""

GIB = 1024 ** 3
WORKER_BASE = 0.5 * GIB  # a worker's interpreter, numpy and pandas, before any county


@dataclass(frozen=True)
class JobSettings:
    """What the job scripts ask SLURM for. ``None`` for ``account``, ``partition`` or ``env``
    writes a placeholder line to be filled in."""

    runs_per_task: int = 50
    shards: int | None = None
    cpus: int = 4
    time: str = "04:00:00"
    account: str | None = None
    partition: str | None = None
    env: str | None = None
    out: str | None = None  # the sweep's results folder (default results/sweeps/<name>)


def _shards(n_runs: int, s: JobSettings) -> int:
    if s.shards is not None:
        if not 1 <= s.shards <= n_runs:
            raise InputError(f"--shards {s.shards}: between 1 and the experiment's "
                             f"{n_runs:,} runs")
        return s.shards
    if s.runs_per_task < 1:
        raise InputError(f"--runs-per-task {s.runs_per_task}: at least 1")
    return math.ceil(n_runs / s.runs_per_task)


def _mem_per_cpu(exp) -> int:
    """GiB per worker: its interpreter and twice the largest county of the design (the
    county and the runs stepped together with it)."""
    from ruralgov.model.footprint import county_bytes, largest

    return max(1, math.ceil((WORKER_BASE + 2 * county_bytes(largest(exp.base, exp.points)))
                            / GIB))


def _sbatch_line(option: str, value: str | None, placeholder: str) -> str:
    if value:
        return f"#SBATCH --{option}={value}"
    return (f"##SBATCH --{option}={placeholder}    # fill in and remove one '#' if your site "
            "needs it")


def _env_lines(env: str | None) -> list[str]:
    if env:
        return [env]
    return ["# How this cluster activates the environment that has ruralgov installed, e.g.",
            "#   module load python/3.11 && source ~/venvs/ruralgov/bin/activate",
            "command -v ruralgov >/dev/null || { echo \"ruralgov not found: add the line that "
            "activates its environment to $0\" >&2; exit 2; }"]


def job_scripts(experiment: str, exp, settings: JobSettings = JobSettings()) -> dict[str, str]:
    """The text of each of [`SCRIPTS`][ruralgov.study.slurm.SCRIPTS] for experiment ``exp``
    (loaded from ``experiment``, the name or path the scripts will pass to ``ruralgov``)."""
    s = settings
    if s.cpus < 1:
        raise InputError(f"--cpus {s.cpus}: at least 1")
    n = _shards(exp.n_runs, s)
    if Path(experiment).is_file():  # the jobs run in the scripts' folder: absolute paths
        experiment = str(Path(experiment).resolve())
    out = str(Path(s.out or f"results/sweeps/{exp.name}").resolve())
    quoted, q_out = shlex.quote(experiment), shlex.quote(out)
    head = ["#!/bin/bash",
            _sbatch_line("account", s.account, "YOUR_ACCOUNT"),
            _sbatch_line("partition", s.partition, "YOUR_PARTITION")]
    env = _env_lines(s.env)
    sweep = [*head[:1], f"#SBATCH --job-name=ruralgov-{exp.name}", *head[1:],
             f"#SBATCH --array=1-{n}",
             f"#SBATCH --cpus-per-task={s.cpus}",
             f"#SBATCH --mem-per-cpu={_mem_per_cpu(exp)}G",
             f"#SBATCH --time={s.time}",
             "#SBATCH --output=slurm-logs/%x-%A_%a.out",
             "#SBATCH --requeue",
             "#SBATCH --open-mode=append",
             f"# {exp.n_runs:,} runs of {exp.name} in {n} shard(s) of about "
             f"{math.ceil(exp.n_runs / n)} each: a requeued or resubmitted task runs its shard "
             "again and keeps what is done",
             "set -euo pipefail", *env,
             f'ruralgov sweep {quoted} --shard "${{SLURM_ARRAY_TASK_ID}}/{n}" \\',
             f'    --workers "${{SLURM_CPUS_PER_TASK:-1}}" --out {q_out} --quiet', ""]
    analyze = [*head[:1], f"#SBATCH --job-name=ruralgov-{exp.name}-analysis", *head[1:],
               "#SBATCH --cpus-per-task=1", "#SBATCH --mem=4G", "#SBATCH --time=01:00:00",
               "#SBATCH --output=slurm-logs/%x-%j.out",
               "# runs once every task of the array has finished without error (submit.sh)",
               "set -euo pipefail", *env, f"ruralgov analyze {q_out}", ""]
    submit = ["#!/bin/bash",
              f"# Submit the sweep of {exp.name} ({n} array task(s)) and its analysis, which "
              "starts when every task has succeeded.",
              "# A failed task: fix the cause, then resubmit it alone, e.g. "
              "sbatch --array=7 sweep.sbatch (its finished runs are kept).",
              "set -euo pipefail",
              'cd "$(dirname "$0")"',
              "mkdir -p slurm-logs",
              "sweep=$(sbatch --parsable sweep.sbatch)",
              'sweep=${sweep%%;*}  # "jobid;cluster" on federated sites',
              'analysis=$(sbatch --parsable --dependency="afterok:${sweep}" analyze.sbatch)',
              'echo "sweep: job array ${sweep}; analysis: job ${analysis} (waits for it)"', ""]
    return {"sweep.sbatch": "\n".join(sweep), "analyze.sbatch": "\n".join(analyze),
            "submit.sh": "\n".join(submit)}


def write_job_scripts(experiment: str, folder: Path | str,
                      settings: JobSettings = JobSettings()) -> dict[str, Path]:
    """Write the job scripts for ``experiment`` (a name or file) into ``folder``; refuse to
    overwrite scripts already there (they may hold site settings filled in by hand)."""
    from ruralgov.study.experiment import load_experiment

    exp = load_experiment(experiment)
    texts = job_scripts(experiment, exp, settings)
    folder = Path(folder)
    there = [name for name in texts if (folder / name).exists()]
    if there:
        raise InputError(f"{folder}: already holds {', '.join(there)} (perhaps with site "
                         "settings filled in): remove them or choose another --dir")
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in texts.items():
        path = folder / name
        with open(path, "x", encoding="utf-8") as f:  # never overwrites
            f.write(text)
        path.chmod(0o755 if name.endswith(".sh") else 0o644)
        paths[name] = path
    return paths
