"""Scenario files: every shipped one loads and runs; bad input gives one clear message."""

import json
from pathlib import Path

import pytest

from ruralgov.app.cli import main
from ruralgov.io.scenario import list_scenarios, load_scenario, parse_overrides
from ruralgov.model.params import REGISTRY
from ruralgov.model.schema import InputError
from ruralgov.study.runner import run_scenario

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.stem for p in (REPO / "scenarios").glob("*.yaml"))
REQUIRED = {"baseline", "fragmented", "suspended_township", "lineage_stronghold", "integrated",
            "responsive", "demolition_campaign", "rigid_topdown", "flexible_discretion"}


def test_the_eight_model_md_scenarios_are_shipped():
    assert REQUIRED <= set(SHIPPED)
    assert {s.name for s in list_scenarios()} >= REQUIRED


@pytest.mark.parametrize("name", SHIPPED)
def test_scenario_loads_runs_and_changes_only_known_parameters(name):
    sc = load_scenario(name)
    assert sc.title and len(sc.story) > 80
    for key, value in sc.parameters.items():
        assert key in REGISTRY
        assert value != REGISTRY[key].default, f"{name}: {key} repeats its default"
    r = run_scenario(sc, seed=1, steps=3, overrides={"n_villagers": 400})
    assert len(r.series) == 3 and r.seed == 1


def write(tmp_path, text, name="s.yaml"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


GOOD = "title: T\nstory: A story.\n"


@pytest.mark.parametrize("body, expected", [
    (GOOD + "parameters:\n  coordination: 1.5\n",
     r"parameters\.coordination: .*less than or equal to 1.*allowed: a number from 0 to 1"),
    (GOOD + "parameters:\n  coordinaton: 0.5\n",
     r"parameters\.coordinaton: unknown parameter \(did you mean coordination"),
    (GOOD + "parameters:\n  n_departments: 2.5\n", r"parameters\.n_departments: .*integer"),
    (GOOD + "parameters:\n  campaign: 'yes'\n", r"parameters\.campaign: .*bool"),
    (GOOD + "parameters:\n  enforcement: high\n",
     r"parameters\.enforcement: expected a number from 0 to 1, got str 'high'"),
    (GOOD + "parameters:\n  enforcement: true\n", r"parameters\.enforcement: .*got bool"),
    (GOOD + "steps: 0\n", r"steps: .*greater than or equal to 1"),
    (GOOD + "colour: red\n", r"colour: unknown key; allowed: title, story, steps, seed"),
    ("story: no title\n", r"title: Field required"),
    ("title: [unclosed\n", r"malformed YAML at line \d+"),
    ("- just\n- a list\n", r"must be a mapping"),
    (GOOD + "network:\n  villagers: nope.csv\n  edges: nope2.csv\n",
     r"network\.villagers: no such file"),
    (GOOD + "network:\n  villagers: a.csv\n", r"network: .*both villagers and edges"),
    (GOOD + "parameters:\n  n_villagers: 10\n  n_townships: 4\n", None),  # checked at run time
])
def test_bad_scenarios_name_file_and_field(tmp_path, body, expected):
    f = write(tmp_path, body)
    if expected is None:
        sc = load_scenario(f)
        with pytest.raises(InputError, match=r"s\.yaml: parameters: n_villagers = 10"):
            run_scenario(sc, seed=1, steps=1)
        return
    with pytest.raises(InputError) as info:
        load_scenario(f)
    msg = str(info.value)
    assert str(f) in msg
    assert __import__("re").search(expected, msg), msg


def test_missing_scenario_names_the_known_ones(tmp_path):
    with pytest.raises(InputError, match="known scenarios: .*baseline"):
        load_scenario("no_such_scenario")
    with pytest.raises(InputError, match="no such scenario file"):
        load_scenario(tmp_path / "missing.yaml")


def test_overrides_are_parsed_as_yaml_and_validated():
    assert parse_overrides(["coordination=0.8", "campaign=true", "n_departments=6"]) == {
        "coordination": 0.8, "campaign": True, "n_departments": 6}
    with pytest.raises(InputError, match=r"--set: coordination: .*less than or equal to 1"):
        parse_overrides(["coordination=2"])
    with pytest.raises(InputError, match="--set bogus: unknown parameter"):
        parse_overrides(["bogus=1"])
    with pytest.raises(InputError, match="expected key=value"):
        parse_overrides(["coordination"])


# ------------------------------------------------------------------ command line
def test_cli_run_writes_series_summary_manifest_and_figure(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "demolition_campaign", "--seed", "5", "--steps", "12", "--set",
                 "n_villagers=500", "--set", "campaign_start=4", "--out", str(out), "--csv",
                 "--quiet"])
    assert code == 0
    for f in ("series.parquet", "summary.parquet", "series.csv", "summary.csv",
              "villages.parquet", "townships.parquet", "departments.parquet", "rules.parquet",
              "manifest.json", "figure.png"):
        assert (out / f).is_file(), f
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 5 and man["steps"] == 12
    assert man["parameters"]["n_villagers"] == 500 and man["parameters"]["campaign"] is True
    assert man["overrides"] == {"n_villagers": 500, "campaign_start": 4}
    assert man["scenario"]["name"] == "demolition_campaign" and len(man["scenario"]["sha256"]) == 64
    assert set(man["versions"]) >= {"ruralgov", "mesa", "numpy", "python"}
    assert "commit" in man["git"] and man["timings_s"]["run"] > 0
    import pandas as pd

    series = pd.read_parquet(out / "series.parquet")
    assert len(series) == 12 and series["campaign_active"].sum() == 8
    assert (out / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(out) in capsys.readouterr().out


def test_cli_same_seed_same_results(tmp_path):
    import pandas as pd

    for name in ("a", "b"):
        assert main(["run", "baseline", "--seed", "9", "--steps", "15", "--set",
                     "n_villagers=400", "--out", str(tmp_path / name), "--quiet",
                     "--no-figure"]) == 0
    for table in ("series", "summary", "villages"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / f"{table}.parquet"),
                                      pd.read_parquet(tmp_path / "b" / f"{table}.parquet"))


def test_cli_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    code = main(["run", "baseline", "--steps", "2", "--out", str(out), "--quiet"])
    assert code == 2
    assert "never overwritten" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("argv, needle", [
    (["run", "baseline", "--set", "coordination=7"], "--set: coordination"),
    (["run", "nonexistent"], "known scenarios"),
    (["validate", "MISSING.yaml"], "no such scenario file"),
])
def test_cli_bad_input_exit_2_one_message_nothing_written(tmp_path, capsys, monkeypatch, argv,
                                                          needle):
    monkeypatch.chdir(tmp_path)
    code = main(argv + (["--out", str(tmp_path / "o")] if argv[0] == "run" else []))
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "results").exists()


def test_cli_validate_ok_and_bad(tmp_path, capsys):
    bad = write(tmp_path, GOOD + "parameters:\n  responsiveness: -1\n")
    assert main(["validate", "baseline", "fragmented"]) == 0
    assert main(["validate", str(bad)]) == 2
    assert "parameters.responsiveness" in capsys.readouterr().err


def test_cli_help_on_every_subcommand(capsys):
    for cmd in ([], ["run"], ["scenarios"], ["validate"], ["params"]):
        with pytest.raises(SystemExit) as exc:
            main(cmd + ["--help"])
        assert exc.value.code == 0
        assert "usage: ruralgov" in capsys.readouterr().out


def test_cli_scenarios_and_params_list(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "fragmented" in out and "Fragmented departments" in out
    assert main(["params"]) == 0
    assert "coordination" in capsys.readouterr().out


def test_make_demo_runs_the_baseline(tmp_path, repo_root):
    import subprocess
    import sys

    venv = Path(sys.prefix)
    out = tmp_path / "demo"
    res = subprocess.run(
        ["make", "-s", "demo", f"VENV={venv}", f"DEMO_ARGS=--out {out} --steps 10 --quiet"],
        cwd=repo_root, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert (out / "series.parquet").is_file() and (out / "figure.png").is_file()
    assert json.loads((out / "manifest.json").read_text())["scenario"]["name"] == "baseline"


def test_cli_output_into_a_closed_pipe_is_not_a_traceback():
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("ruralgov")
    proc = subprocess.Popen([str(exe), "params"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in err and "Exception ignored" not in err, err
