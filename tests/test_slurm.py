"""`ruralgov slurm`: job scripts for a SLURM cluster, run here in a simulated SLURM
environment (array tasks with their SLURM_* variables set by hand, a stand-in `sbatch` that
records what it is asked)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ruralgov.io.results import read_runs
from ruralgov.model.schema import InputError
from ruralgov.study.experiment import load_experiment
from ruralgov.study.slurm import JobSettings, job_scripts, write_job_scripts
from ruralgov.study.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    """A 2 x 3 factorial of tiny counties, 3 replications: 18 runs."""
    doc = {"title": "slurm test", "description": "18 runs for the job scripts",
           "scenario": "baseline", "steps": 8, "replications": 3,
           "root_seed": 7, "design": {"type": "factorial"},
           "parameters": {"n_villagers": 120, "n_townships": 2, "villages_per_township": 2},
           "factors": {"enforcement": [0.1, 0.4], "coordination": [0.0, 0.5, 1.0]},
           "outputs": {"series": False, "measures": ["compliance", "petitions_new"]}}
    path = tmp_path_factory.mktemp("exp") / "small.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _line(text: str, prefix: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(prefix))


@pytest.mark.parametrize("per_task, shards", [(5, None), (18, None), (50, None), (1, None),
                                              (50, 4)])
def test_the_array_size_comes_from_the_run_count(experiment, per_task, shards):
    exp = load_experiment(experiment)
    assert exp.n_runs == 18
    want = shards or math.ceil(18 / per_task)
    text = job_scripts(str(experiment), exp, JobSettings(runs_per_task=per_task,
                                                         shards=shards))["sweep.sbatch"]
    assert _line(text, "#SBATCH --array=") == f"#SBATCH --array=1-{want}"
    assert f'--shard "${{SLURM_ARRAY_TASK_ID}}/{want}"' in text


@pytest.mark.parametrize("settings, message", [
    (JobSettings(shards=19), "--shards 19: between 1 and the experiment's 18 runs"),
    (JobSettings(shards=0), "--shards 0"),
    (JobSettings(runs_per_task=0), "--runs-per-task 0: at least 1"),
    (JobSettings(cpus=0), "--cpus 0: at least 1"),
])
def test_impossible_settings_are_refused(experiment, settings, message):
    with pytest.raises(InputError, match=message):
        job_scripts(str(experiment), load_experiment(experiment), settings)


def test_site_settings_are_placeholders_until_given(experiment):
    exp = load_experiment(experiment)
    bare = job_scripts(str(experiment), exp)["sweep.sbatch"]
    assert "##SBATCH --account=YOUR_ACCOUNT" in bare and "\n#SBATCH --account" not in bare
    assert "##SBATCH --partition=YOUR_PARTITION" in bare
    assert "command -v ruralgov" in bare
    given = job_scripts(str(experiment), exp, JobSettings(
        account="proj42", partition="short", env="source /opt/venv/bin/activate"))
    for name in ("sweep.sbatch", "analyze.sbatch"):
        assert "#SBATCH --account=proj42\n" in given[name]
        assert "#SBATCH --partition=short\n" in given[name]
        assert "source /opt/venv/bin/activate\n" in given[name]
        assert "YOUR_" not in given[name] and "command -v" not in given[name]


def test_the_memory_line_grows_with_the_largest_county(experiment, tmp_path):
    doc = yaml.safe_load(experiment.read_text())
    doc["factors"]["n_villagers"] = [120, 2_000_000]
    big = tmp_path / "big.yaml"
    big.write_text(yaml.safe_dump(doc))

    def mem(path):
        text = job_scripts(str(path), load_experiment(path))["sweep.sbatch"]
        return int(_line(text, "#SBATCH --mem-per-cpu=").split("=")[1].rstrip("G"))

    assert mem(experiment) == 1
    assert mem(big) > mem(experiment)


def _env(**slurm: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **slurm}


def test_the_array_tasks_and_the_analysis_run_the_sweep_as_one_process_would(
        experiment, tmp_path):
    jobs, out = tmp_path / "jobs", tmp_path / "sweeps" / "small"
    write_job_scripts(str(experiment), jobs, JobSettings(runs_per_task=7, cpus=1,
                                                         out=str(out)))
    for i in (1, 2, 3):  # as SLURM would run the three tasks (in any order)
        done = subprocess.run(["bash", str(jobs / "sweep.sbatch")], cwd=jobs, text=True,
                              capture_output=True, timeout=600,
                              env=_env(SLURM_ARRAY_TASK_ID=str(4 - i), SLURM_CPUS_PER_TASK="1",
                                       SLURM_JOB_ID=str(900 + i)))
        assert done.returncode == 0, done.stderr
    serial = tmp_path / "serial"
    run_sweep(load_experiment(experiment), serial, workers=1, progress=False)
    cols = ["run_id", "seed", "compliance_final", "petitions_new_final"]
    pd.testing.assert_frame_equal(
        read_runs(out).sort_values("run_id")[cols].reset_index(drop=True),
        read_runs(serial).sort_values("run_id")[cols].reset_index(drop=True))
    done = subprocess.run(["bash", str(jobs / "analyze.sbatch")], cwd=jobs, text=True,
                          capture_output=True, timeout=600, env=_env(SLURM_JOB_ID="999"))
    assert done.returncode == 0, done.stderr
    assert (out / "analysis" / "SUMMARY.md").is_file()


def test_without_an_environment_the_job_stops_with_a_message(experiment, tmp_path):
    write_job_scripts(str(experiment), tmp_path, JobSettings(out=str(tmp_path / "o")))
    env = _env(SLURM_ARRAY_TASK_ID="1")
    env["PATH"] = "/usr/bin:/bin"  # a node where ruralgov is not on the PATH
    done = subprocess.run(["bash", str(tmp_path / "sweep.sbatch")], text=True,
                          capture_output=True, env=env, timeout=60)
    assert done.returncode == 2
    assert "ruralgov not found: add the line that activates its environment" in done.stderr
    assert not (tmp_path / "o").exists()


def test_submit_makes_the_analysis_wait_for_the_whole_array(experiment, tmp_path):
    jobs = tmp_path / "jobs"
    write_job_scripts(str(experiment), jobs)
    fake = tmp_path / "bin"
    fake.mkdir()
    calls = tmp_path / "calls"
    (fake / "sbatch").write_text(  # stands in for SLURM: records, answers a job id
        f'#!/bin/bash\necho "$@" >> {calls}\n'
        'if [[ "$*" == *analyze* ]]; then echo 5002; else echo "5001;cluster2"; fi\n')
    (fake / "sbatch").chmod(0o755)
    env = _env()
    env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
    done = subprocess.run(["bash", str(jobs / "submit.sh")], text=True, capture_output=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    first, second = calls.read_text().splitlines()
    assert first == "--parsable sweep.sbatch"
    assert second == "--parsable --dependency=afterok:5001 analyze.sbatch"
    assert (jobs / "slurm-logs").is_dir()
    assert "job array 5001" in done.stdout


def test_scripts_already_there_are_never_overwritten(experiment, tmp_path):
    write_job_scripts(str(experiment), tmp_path)
    (tmp_path / "sweep.sbatch").write_text("edited by hand")
    with pytest.raises(InputError, match="already holds sweep.sbatch"):
        write_job_scripts(str(experiment), tmp_path)
    assert (tmp_path / "sweep.sbatch").read_text() == "edited by hand"


def test_the_command_line(experiment, tmp_path):
    exe = BIN / "ruralgov"
    done = subprocess.run([str(exe), "slurm", str(experiment), "--dir", str(tmp_path / "j"),
                           "--shards", "3", "--account", "a1", "--cpus", "2"],
                          text=True, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "j" / "sweep.sbatch").read_text()
    assert "#SBATCH --array=1-3" in text and "#SBATCH --cpus-per-task=2" in text
    assert "#SBATCH --account=a1" in text
    bad = subprocess.run([str(exe), "slurm", str(experiment), "--dir", str(tmp_path / "k"),
                          "--shards", "40"], text=True, capture_output=True, timeout=120)
    assert bad.returncode == 2
    assert "--shards 40" in bad.stderr and "Traceback" not in bad.stderr
