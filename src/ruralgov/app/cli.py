"""Command line: ``ruralgov run | scenarios | validate | params | sweep | experiments``.

Bad input prints one clear message (file, field, what is allowed) to stderr and exits with
status 2, writing nothing.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import signal
import sys
import threading
from pathlib import Path

from ruralgov import __version__
from ruralgov.model.schema import MAX_STEPS, DiskFull, InputError

EXIT_INPUT = 2


def _cmd_run(args: argparse.Namespace) -> int:
    from ruralgov.io.files import RESULTS, check_writable, require_empty
    from ruralgov.io.scenario import load_scenario, parse_overrides
    from ruralgov.model.footprint import check_fits
    from ruralgov.study.progress import Progress
    from ruralgov.study.runner import (
        check_intervention_steps,
        default_out_dir,
        run_scenario,
        write_run,
    )

    if args.posterior is not None:
        return _run_posterior(args)
    scenario = load_scenario(args.scenario)
    overrides = parse_overrides(args.set)
    params = scenario.resolved(overrides)  # validate the combination before running
    check_intervention_steps(scenario, args.steps or scenario.steps, "--steps")
    check_fits(params, "--set" if "n_villagers" in overrides else str(scenario.path))
    # refuse an unusable output folder before running, not after (creating nothing)
    if args.out is not None:  # (writable: checked with every command's arguments)
        require_empty(args.out, "--out")
    else:
        check_writable(RESULTS / "runs" / scenario.name, None)
    with Progress(f"ruralgov run {scenario.name}", args.steps or scenario.steps, unit="steps",
                  enabled=not args.quiet) as progress:
        result = run_scenario(scenario, seed=args.seed, steps=args.steps, overrides=overrides,
                              collect_detail=not args.no_detail, progress=progress)
    out = Path(args.out) if args.out is not None else default_out_dir(result)
    written = write_run(result, out, csv=args.csv, figure=not args.no_figure)
    s = result.summary
    print(f"{scenario.title}: seed {result.seed}, {result.steps} steps, "
          f"{result.parameters['n_villagers']:,} villagers, "
          f"{result.timings['per_step'] * 1000:.1f} ms/step")
    print(f"  compliance {s['compliance_final']:.3f}  legitimacy {s['legitimacy_mean_final']:.3f}"
          f"  substitution {s['substitution_index_final']:.2f}  (means over the last quarter)")
    print(f"  per 1,000 villagers a year: petitions {s['petitions_new_per_1000_year']:,.1f} "
          f"(collective {s['petitions_collective_per_1000_year']:,.1f}, to the county "
          f"{s['petitions_escalated_per_1000_year']:,.1f}), sanctions "
          f"{s['sanctions_per_1000_year']:,.1f}, detentions {s['detained_per_1000_year']:,.1f}; "
          f"protests {s['protest_episodes_per_100k_year']:,.1f} per 100,000 a year "
          f"({s['protest_events_per_100k_year']:,.1f} village-months with one)")
    print("  (one villager = one adult rural resident, one step = one month)")
    print(f"results: {written}")
    return 0


def _run_posterior(args: argparse.Namespace) -> int:
    """`ruralgov run SCENARIO --posterior N`: intervals over posterior draws."""
    from ruralgov.io.scenario import parse_overrides
    from ruralgov.model.units import STEP, VILLAGER
    from ruralgov.study.posterior import run_posterior

    out, table = run_posterior(args.scenario, args.posterior, args.seed, steps=args.steps,
                               overrides=parse_overrides(args.set),
                               posterior=args.posterior_file, out=args.out,
                               workers=args.workers, progress=not args.quiet)
    print(f"{args.scenario} at {args.posterior} posterior draws: median and central 90 % "
          f"(parameter and seed uncertainty; one villager = one {VILLAGER}, one step = one "
          f"{STEP})")
    for r in table.itertuples():
        print(f"  {r.measure:<40} {r.median:10.4g}   [{r.low_5:.4g}, {r.high_95:.4g}]")
    print(f"results: {out}")
    return 0


def _cmd_magnitudes(args: argparse.Namespace) -> int:
    from ruralgov.study.magnitudes import magnitudes, markdown

    print(markdown(magnitudes(args.targets)))
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from ruralgov.io.scenario import list_scenarios

    for sc in list_scenarios():
        print(f"{sc.name:<24} {sc.title}")
        if args.long:
            print(f"{'':<24} {sc.story}")
            changed = ", ".join(f"{k}={v}" for k, v in sc.parameters.items()) or "(defaults)"
            print(f"{'':<24} parameters: {changed}\n")
        else:
            print(f"{'':<24} {sc.summary_line}")
    return 0


def _cmd_stories(args: argparse.Namespace) -> int:
    from ruralgov.study import stories

    names = args.names or None
    results = stories.check_stories(names, seeds=range(args.seeds),
                                    agree=max(1, round(args.seeds * stories.AGREE
                                                       / len(stories.SEEDS))))
    table = stories.markdown(results)
    if args.out:
        from ruralgov.io.files import write_text

        write_text(stories.document(table, args.seeds), Path(args.out))
        print(f"written to {args.out}")
    else:
        print(table)
    failed = [r for r in results if not r.holds]
    for r in failed:
        print(f"does not hold: {r.scenario}: {r.claim} ({r.agree} of {r.seeds} seeds)",
              file=sys.stderr)
    return 1 if failed else 0


def _cmd_levers(args: argparse.Namespace) -> int:
    from ruralgov.io.files import write_text
    from ruralgov.study import levers
    from ruralgov.study.progress import Progress

    chosen = levers.LEVERS
    if args.only is not None and not all(o.strip() for o in args.only):
        raise InputError("--only: give parts of lever names (no empty entries); `ruralgov "
                         "levers --list` lists them")
    if args.out and args.csv and Path(args.out).absolute() == Path(args.csv).absolute():
        raise InputError(f"--out and --csv name the same file {args.out}; give two files")
    if args.only:
        chosen = tuple(lv for lv in levers.LEVERS if any(o in lv.name for o in args.only))
        if not chosen:
            raise InputError(f"--only {' '.join(args.only)}: no lever matches; `ruralgov "
                             "levers --list` lists them")
    if args.list:
        for lv in chosen:
            print(f"{lv.name:<34} {lv.instrument}")
        return 0
    window = (args.steps // 2 + 1, args.steps)
    if args.csv and Path(args.csv).exists():
        raise InputError(f"--csv {args.csv}: exists; results are never overwritten (give a new "
                         "name or remove it)")
    total = (len(chosen) + 1) * args.seeds
    with Progress("ruralgov levers", total, unit="runs", enabled=not args.quiet) as progress:
        table = levers.lever_table(chosen, seeds=range(args.seeds), steps=args.steps,
                                   window=window, workers=args.workers, progress=progress,
                                   scheduler=args.scheduler)
    if args.csv:
        from ruralgov.io.files import atomic_path

        with atomic_path(Path(args.csv)) as tmp:
            table.to_csv(tmp, index=False)
    if args.out:
        write_text(levers.document(table, args.steps, window), Path(args.out))
        print(f"written to {args.out}")
    else:
        print(levers.markdown(table))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    failures = 0
    for f in args.files:
        try:
            print(_validate_one(f))
        except InputError as err:
            print(str(err), file=sys.stderr)
            failures += 1
    return EXIT_INPUT if failures else 0


def _validate_one(f: str) -> str:
    """Check one file of any kind (scenario, experiment, calibration targets, robustness spec,
    classic-model validation) as its command would, without running or importing anything it
    names; say which file was read when a name found a local file hiding a shipped one."""
    from ruralgov.io.finder import find_named, shadowed

    kind = _file_kind(f)
    path = Path(f)
    if not path.is_file():
        path = find_named(f, "scenario" if kind == "scenario" else "experiment",
                          nested=kind != "scenario")
    hidden = [] if Path(f).is_file() else shadowed(f, "scenario" if kind == "scenario"
                                                   else "experiment")
    note = f"; read instead of {', '.join(map(str, hidden))}" if hidden else ""
    if kind == "experiment":
        from ruralgov.study.experiment import load_experiment

        exp = load_experiment(path, import_reporters=False)
        for prof in exp.profiles:
            load_experiment(path, profile=prof, import_reporters=False)
        return (f"{exp.path}: ok (experiment {exp.title}; {exp.n_runs} runs"
                + (f"; hypothesis {exp.hypothesis.id}" if exp.hypothesis else "")
                + (f"; profiles {', '.join(exp.profiles)}" if exp.profiles else "")
                + f"{note})")
    if kind == "targets":
        from ruralgov.study.calibrate import load_targets

        spec, _ = load_targets(path)
        for prof in spec.profiles:
            load_targets(path, prof)
        return (f"{path}: ok (calibration targets {spec.title}; {len(spec.targets)} targets, "
                f"{len(spec.priors)} priors{note})")
    if kind == "search":
        from ruralgov.study.search import load_search

        sspec, _ = load_search(path)
        for prof in sspec.profiles:
            load_search(path, prof)
        return (f"{path}: ok (search {sspec.title}; {len(sspec.levers)} levers, "
                f"{len(sspec.objectives)} objective(s), {len(sspec.constraints)} "
                f"constraint(s){note})")
    if kind == "robustness":
        from ruralgov.study.robustness import load_spec

        rspec, _ = load_spec(path)
        return f"{path}: ok (robustness spec {rspec.title}{note})"
    if kind == "validation":
        from ruralgov.study.validation import load_validation

        v = load_validation(path)
        return f"{path}: ok (validation of a classic model; {len(v.checks)} checks{note})"
    from ruralgov.io.scenario import load_scenario

    sc = load_scenario(path)
    sc.resolved()
    if sc.network:
        from ruralgov.io.fielddata import load_population

        load_population(**sc.network)
    return f"{sc.path}: ok ({sc.title}; {len(sc.parameters)} parameter(s) changed{note})"


def _file_kind(f: str) -> str:
    """What kind of file ``f`` is ([`file_kind`][ruralgov.io.scenario.file_kind]); a name is an
    experiment if one of that name exists, else a scenario."""
    from ruralgov.io.scenario import MAX_YAML_BYTES, file_kind, load_yaml

    path = Path(f)
    if not path.is_file():  # a name
        from ruralgov.study.experiment import find_experiment

        try:
            path = find_experiment(f)
        except InputError:
            return "scenario"
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            return "scenario"  # the reader refuses it by its size, before parsing it
        doc = load_yaml(path.read_bytes().decode("utf-8"), path)
    except (InputError, ValueError, OSError, __import__("yaml").YAMLError):
        return "scenario"  # the scenario reader says what is wrong
    return file_kind(doc, loose=True) if isinstance(doc, dict) else "scenario"


def _cmd_params(args: argparse.Namespace) -> int:
    from ruralgov.model.params import AT_START, PARAMS, markdown_table

    if args.markdown:
        print(markdown_table())
        return 0
    for p in PARAMS:
        if args.section and p.section != args.section:
            continue
        default = str(p.default).lower() if p.type == "bool" else p.default
        when = "at start" if p.name in AT_START else "any step"
        print(f"{p.name:<28} {default!s:<8} {p.allowed():<32} {when:<9} {p.doc}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from ruralgov.study.sweep import parse_shard, run_sweep

    exp = _sweep_experiment(args)
    shard = parse_shard(args.shard)
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers}: must be at least 1")
    if args.scheduler and args.workers:
        raise InputError("--workers and --scheduler exclude each other: the cluster decides")
    out = args.out
    if out is None and args.profile:  # its own default folder: never mixed with the full one
        from ruralgov.io.files import RESULTS

        out = RESULTS / "sweeps" / f"{exp.name}-{args.profile}"
    try:
        rep = run_sweep(exp, out, workers=args.workers, scheduler=args.scheduler,
                        shard=shard, retry_failed=args.retry_failed, progress=not args.quiet,
                        wait=True if args.wait == "forever" else args.wait, batch=args.batch,
                        extend=args.extend)
    except KeyboardInterrupt as stop:  # Ctrl+C, or SIGTERM (a cluster's time limit, scancel)
        print("\nruralgov: interrupted; finished runs are saved — rerun the same command to "
              "go on", file=sys.stderr)
        return 143 if isinstance(stop, Terminated) else 130
    done = rep.already + rep.ran
    what = f"shard {shard[0]}/{shard[1]} of " if shard else ""
    print(f"{what}{exp.name}: {done:,}/{rep.total:,} runs done ({rep.ran:,} now, "
          f"{rep.already:,} found done) in {rep.seconds:,.1f} s; {rep.failed} failed; "
          f"results in {rep.out}")
    return 1 if rep.failed else 0


def _sweep_experiment(args: argparse.Namespace):
    """The experiment a sweep runs: the file, at ``--profile``, with ``--set`` fixed values
    (a variant named after them, so it gets its own default folder)."""
    from ruralgov.io.scenario import parse_overrides
    from ruralgov.study.experiment import load_experiment

    exp = load_experiment(args.experiment, profile=args.profile)
    overrides = parse_overrides(args.set)
    if overrides:
        suffix = ",".join(f"{k}={v}" for k, v in overrides.items())
        exp = exp.variant(suffix, **overrides)
    return exp


def _cmd_slurm(args: argparse.Namespace) -> int:
    from ruralgov.study.slurm import JobSettings, write_job_scripts

    settings = JobSettings(runs_per_task=args.runs_per_task, shards=args.shards,
                           cpus=args.cpus, time=args.time, account=args.account,
                           partition=args.partition, env=args.env, out=args.out)
    paths = write_job_scripts(args.experiment, args.dir, settings)
    print(f"job scripts written to {Path(args.dir)}: {', '.join(paths)}; submit with "
          f"bash {Path(args.dir) / 'submit.sh'}")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from ruralgov.analysis.sensitivity import analyze

    measures = None
    if args.measures is not None:
        measures = [m.strip() for m in args.measures.split(",")]
        if not all(measures):
            raise InputError(f"--measures {args.measures!r}: give comma-separated summary "
                             "columns, e.g. compliance_final,protesters_final (no empty "
                             "entries)")
    out = analyze(args.results, measures=measures, out=args.out)
    print(f"analysis written to {out} (start with {out / 'SUMMARY.md'})")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from ruralgov.study.reproduce import reproduce

    only = args.only.split(",") if args.only else None
    report = reproduce(args.profile, only=only, out=args.out, workers=args.workers,
                       progress=not args.quiet, update_check=not args.no_update_check,
                       knockouts=args.knockouts, size_check=not args.no_size_check,
                       robustness=args.robustness, posterior=args.posterior)
    print(f"report written to {report}")
    return 0


def _cmd_robustness(args: argparse.Namespace) -> int:
    from ruralgov.study.robustness import robustness

    if args.summary_only:
        from ruralgov.study.robustness import resummarise

        if not args.out:
            raise InputError("--summary-only: name the finished study with --out FOLDER")
        print(f"robustness report written to {resummarise(args.out)}")
        return 0
    only = args.only.split(",") if args.only else None
    report = robustness(args.profile, only=only, out=args.out, workers=args.workers,
                        progress=not args.quiet, spec=args.spec, posterior=args.posterior)
    print(f"robustness report written to {report}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from ruralgov.study.calibrate import calibrate, render

    if args.point and args.sbc is not None:
        raise InputError("--point and --sbc: give one (each is its own study of a calibration)")
    if args.sbc is not None:
        from ruralgov.study.sbc import sbc

        folder = sbc(args.targets, profile=args.profile, out=args.out, draws=args.sbc,
                     accept=args.sbc_accept, workers=args.workers, scheduler=args.dask,
                     progress=not args.quiet)
        print(f"simulation-based calibration written to {folder / 'sbc.json'}")
        if (folder.parent / "calibration.json").is_file() and json.loads(
                (folder.parent / "calibration.json").read_text()).get("status") == "done":
            print(f"calibration report rewritten: {render(folder.parent)}")
        return 0
    if args.point:
        return _calibration_point(args)
    report = calibrate(args.targets, profile=args.profile, out=args.out, workers=args.workers,
                       progress=not args.quiet, dask=args.dask)
    print(f"calibration report written to {report}")
    return 0


def _calibration_point(args: argparse.Namespace) -> int:
    from ruralgov.io.files import RESULTS
    from ruralgov.study.calibrate import load_targets
    from ruralgov.study.point import point

    _, path = load_targets(args.targets, args.profile)
    folder = Path(args.out) if args.out else RESULTS / "calibration" / (
        path.stem + (f"-{args.profile}" if args.profile else ""))
    out = point(folder, candidates=args.point_candidates, seeds=args.point_seeds,
                workers=args.workers, scheduler=args.dask, progress=not args.quiet)
    chosen = json.loads(out.read_text(encoding="utf-8"))["chosen"]
    print(f"point estimate written to {out}: candidate {chosen['candidate']}, mean distance "
          f"{chosen['distance_mean']:.3g} tolerances over {chosen['runs']} seeds (its ABC "
          f"distance {chosen['abc_distance']:.3g})")
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    import os
    import signal

    from ruralgov.io.extras import require

    require("solara", "the dashboard (or run `make dashboard`)")
    from ruralgov.io.scenario import load_scenario

    sc = load_scenario(args.scenario)  # a bad name or file: one message, before the server
    sc.resolved()
    if sc.network:  # field data are read (and refused) before anything is served
        from ruralgov.io.fielddata import load_population

        load_population(**sc.network)
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: choose 1 to 65535")
    _check_port_free(args.host, args.port)
    scenario = str(sc.path) if Path(args.scenario).is_file() else sc.name
    from ruralgov.io import fonts

    env = {**os.environ, "RURALGOV_DASHBOARD_SCENARIO": scenario,
           "RURALGOV_DASHBOARD_LANG": args.lang or "",
           "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no usage reporting
           "SOLARA_THEME_SHOW_BANNER": "False",
           # a development check that warns about Mesa's own components at every start: not
           # for a trainer's terminal
           "SOLARA_CHECK_HOOKS": "off",
           # the bundled Chinese font, served at static/assets/ (pages render Chinese on a
           # machine without a Chinese system font)
           "SOLARA_ASSETS_EXTRA_LOCATIONS": str(fonts.FOLDER),
           # served over plain http on this machine, the session cookie is SameSite=Lax, as it
           # should be; Solara warns about it at every page load
           "PYTHONWARNINGS": ",".join(filter(None, [
               os.environ.get("PYTHONWARNINGS"),
               "ignore:Cookies with samesite=none require https:UserWarning"]))}
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"ruralgov dashboard: serving on {args.host}, reachable from other machines",
              file=sys.stderr)
    print(f"ruralgov dashboard: http://{args.host}:{args.port}/  (Ctrl+C stops it)",
          flush=True)
    cmd = [sys.executable, "-m", "solara", "run", "ruralgov.app.dashboard.app", "--host",
           args.host, "--port", str(args.port), "--production", "--no-open",
           "--no-check-version"]  # no call to PyPI: nothing leaves the machine
    from ruralgov.study.processes import run_child

    status = run_child(cmd, env=env)  # SIGTERM, SIGHUP, Ctrl+C: the server stops with us
    return 0 if status in (0, -signal.SIGTERM, -signal.SIGINT, 130, 143) else status


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port another program listens on (the server would otherwise start and stop
    with its own error and exit status)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise InputError(f"--host {host}: not an address of this machine ({err})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as err:
            why = ("another program uses it" if err.errno == errno.EADDRINUSE
                   else "not allowed here")
            raise InputError(f"--port {port}: cannot serve on {host}:{port} ("
                             f"{err.strerror or err}); {why} — choose another --port") from None


def _cmd_experiments(args: argparse.Namespace) -> int:
    from ruralgov.io.finder import named_files
    from ruralgov.study.experiment import load_experiment
    from ruralgov.study.validation import load_validation

    validations, searches = [], []
    for name, f in named_files("experiment", nested=True).items():
        if f.parent.name in ("robustness", "calibration"):  # robustness, calibrate specs
            continue
        if f.parent.name == "validation":  # classic-model validations, not sweeps
            validations.append((name, f))
            continue
        if f.parent.name == "search":  # directed searches, not sweeps
            searches.append((name, f))
            continue
        try:
            e = load_experiment(f)
            print(f"{name:<40} {e.n_runs:>9,} runs  {e.design['type']:<9} {e.title}")
        except InputError as err:
            print(f"{name:<40} INVALID: {str(err).splitlines()[0]}")
    if searches:
        from ruralgov.study.search import load_search

        print("\ndirected searches (run by `ruralgov search`):")
        for name, f in searches:
            try:
                sp, _ = load_search(f)
                print(f"{name:<40} {sp.population * sp.generations * sp.replications:>9,} runs"
                      f"  {sp.title}")
            except InputError as err:
                print(f"{name:<40} INVALID: {str(err).splitlines()[0]}")
    if validations:
        print("\nvalidations of the classic models (run by `ruralgov reproduce`):")
        for name, f in validations:
            try:
                v = load_validation(f)
                print(f"{name:<40} {len(v.checks):>3} checks  {v.title}")
            except InputError as err:
                print(f"{name:<40} INVALID: {str(err).splitlines()[0]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ruralgov",
        description="Agent-based model of institutional authority, fragmentation and "
                    "responsiveness in rural governance.")
    parser.add_argument("--version", action="version", version=f"ruralgov {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_run, _add_listings, _add_sweep, _add_analyze, _add_discover, _add_search,
                _add_paths, _add_reproduce, _add_dashboard, _add_room):
        add(sub)
    return parser


def _add_run(sub) -> None:
    run = sub.add_parser("run", help="run a scenario and write its results",
                         description="Run a scenario; write series and summary (Parquet), "
                                     "detail tables, manifest.json and figure.png into a new "
                                     "folder (default results/runs/<scenario>/<time>-seed<N>).")
    run.add_argument("scenario", help="scenario name (see `ruralgov scenarios`) or YAML file")
    run.add_argument("--seed", type=_bounded("--seed", 0, 2**63 - 1), default=None,
                     help="random seed (default: the scenario's, else a fresh one, recorded)")
    run.add_argument("--steps", type=_bounded("--steps", 1, MAX_STEPS), default=None,
                     help="number of steps (default: the scenario's, 200 if it has none)")
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a parameter, e.g. --set coordination=0.8 (repeatable)")
    run.add_argument("--out", default=None, help="output folder; must not exist or be empty")
    run.add_argument("--csv", action="store_true", help="also write CSV copies of the tables")
    run.add_argument("--no-detail", action="store_true",
                     help="skip per-village/township/department/rule tables")
    run.add_argument("--no-figure", action="store_true", help="skip figure.png")
    run.add_argument("--quiet", action="store_true", help="no progress line")
    run.add_argument("--posterior", type=_bounded("--posterior", 1, 100_000), default=None,
                     metavar="N", help="run at N draws from the calibration's posterior (one "
                     "run each, on a process pool): medians and 90 %% intervals that include "
                     "parameter uncertainty")
    run.add_argument("--posterior-file", default=None, metavar="PARQUET",
                     help="with --posterior: another calibration's posterior.parquet "
                          "(default results/calibration/targets/posterior.parquet)")
    run.add_argument("--workers", type=_bounded("--workers", 1, 4096), default=None,
                     help="with --posterior: local processes (default: all cores)")
    run.set_defaults(func=_cmd_run)

def _add_listings(sub) -> None:
    """scenarios, validate, params, experiments: what is there and whether it is valid."""
    sc = sub.add_parser("scenarios", help="list the scenarios with their stories",
                        description="List the scenarios found in ./scenarios, the checkout's "
                                    "scenarios/ and the installed package.")
    sc.add_argument("--long", action="store_true", help="whole story and changed parameters")
    sc.set_defaults(func=_cmd_scenarios)

    mg = sub.add_parser("magnitudes", help="the default county against the published figures",
                        description="Run the baseline scenario at its defaults for the "
                                    "calibration's number of steps on three seeds and measure "
                                    "every calibration target (the table of the ODD's §1.3).")
    mg.add_argument("targets", nargs="?", default="calibration/targets",
                    help="targets file (default: the shipped calibration's)")
    mg.set_defaults(func=_cmd_magnitudes)

    st = sub.add_parser("stories", help="check what the scenarios' stories claim",
                        description="Run each scenario (and the scenario it is compared "
                                    "with) on the same seeds and check every claim of its "
                                    "watch list; exit status 1 if one does not hold.")
    st.add_argument("names", nargs="*", help="scenarios (default: all)")
    st.add_argument("--seeds", type=_bounded("--seeds", 2, 100), default=10,
                    metavar="N", help="seeds 0..N-1 (default 10; 2 to 100)")
    st.add_argument("--out", default=None, help="write the table as Markdown to this file")
    st.set_defaults(func=_cmd_stories)

    lv = sub.add_parser("levers", help="the lever table: each instrument's effect with "
                        "intervals", description="Move each instrument or lever of the "
                        "baseline county in turn, run it on the same seeds as the baseline, and "
                        "report the paired effects with 95%% bootstrap intervals.")
    lv.add_argument("--seeds", type=_bounded("--seeds", 3, 200), default=10, metavar="N",
                    help="paired seeds 0..N-1 (default 10; 3 to 200)")
    lv.add_argument("--steps", type=_bounded("--steps", 2, 10_000), default=96, metavar="S",
                    help="steps per run (default 96); effects over the second half")
    lv.add_argument("--only", nargs="+", default=None, metavar="TEXT",
                    help="only levers whose name contains one of these")
    lv.add_argument("--workers", type=_bounded("--workers", 1, 4096), default=None,
                    help="processes (default: cores)")
    lv.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="run on an existing Dask cluster (tcp://host:8786 or a scheduler "
                         "file) instead of local processes")
    lv.add_argument("--out", default=None, help="write the table as Markdown to this file")
    lv.add_argument("--csv", default=None, help="also write the tidy table to this new file")
    lv.add_argument("--list", action="store_true", help="list the levers and stop")
    lv.add_argument("--quiet", action="store_true", help="no progress bar")
    lv.set_defaults(func=_cmd_levers)

    va = sub.add_parser("validate", help="check scenario files",
                        description="Check scenario files (keys, types, ranges, field-data "
                                    "files); exit status 2 if any is invalid.")
    va.add_argument("files", nargs="+", help="scenario files or names")
    va.set_defaults(func=_cmd_validate)

    pa = sub.add_parser("params", help="list every parameter with default and allowed range",
                        description="List the parameter registry: name, default, allowed "
                        "values, when it can be set ('at start': when the county is built; "
                        "'any step': also by an intervention in a running county) and meaning.")
    pa.add_argument("--markdown", action="store_true", help="as the ODD's Markdown table")
    pa.add_argument("--section", default=None, help="only this ODD submodel")
    pa.set_defaults(func=_cmd_params)

    ex = sub.add_parser("experiments", help="list the experiments",
                        description="List the experiments found in ./experiments, the "
                                    "checkout's experiments/ and the installed package.")
    ex.set_defaults(func=_cmd_experiments)


def _add_sweep(sub) -> None:
    sw = sub.add_parser(
        "sweep", help="run an experiment (parameter sweep); resumable",
        description="Run every run of an experiment that the output folder does not hold yet, "
                    "streaming results to Parquet (runs/, series/) with a manifest. Rerun the "
                    "same command after any interruption to finish. Exit status 1 if any run "
                    "failed (recorded with its error), 2 for bad input.")
    sw.add_argument("experiment", help="experiment name (see `ruralgov experiments`) or file")
    sw.add_argument("--workers", type=_bounded("--workers", 1, 4096), default=None,
                    help="local worker processes (default: all cores, or 1 for a sweep of "
                         "under ~10 s of work; 1 = in this process)")
    sw.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="a running Dask cluster: tcp://host:8786 or a scheduler JSON file")
    sw.add_argument("--shard", default=None, metavar="I/N",
                    help="run only the I-th of N disjoint parts (e.g. $SLURM_ARRAY_TASK_ID/N)")
    sw.add_argument("--out", default=None,
                    help="results folder (default results/sweeps/<experiment>)")
    sw.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="fix a parameter the design does not vary, e.g. --set "
                         "n_villagers=5000 (repeatable; the sweep is then named "
                         "<experiment>-KEY=VALUE)")
    sw.add_argument("--profile", default=None,
                    help="a profile the experiment file declares (e.g. quick)")
    sw.add_argument("--retry-failed", action="store_true", help="run failed runs again")
    sw.add_argument("--extend", action="store_true",
                    help="the folder holds this experiment with fewer replications or design "
                         "points (appended after the old ones): grow it, keeping the runs done")
    sw.add_argument("--batch", type=int, default=None, metavar="R",
                    help="step up to R runs of a design point together (same results, less "
                         "time; default: enough for ~130,000 villagers, at most 64; 1 = one "
                         "run at a time)")
    sw.add_argument("--wait", nargs="?", const="forever", default=False, type=_seconds,
                    metavar="SECONDS",
                    help="if another sweep is writing the same runs into the folder, wait for "
                         "it (at most SECONDS, if given) instead of stopping")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=_cmd_sweep)
    sl = sub.add_parser(
        "slurm", help="write SLURM job scripts for an experiment (array of shards + analysis)",
        description="Write sweep.sbatch (a job array of `ruralgov sweep --shard` tasks, sized "
                    "from the experiment's run count), analyze.sbatch (the analysis, once "
                    "every task has succeeded) and submit.sh (submits both) into a folder. "
                    "Site settings not given are written as placeholders.")
    sl.add_argument("experiment", help="experiment name (see `ruralgov experiments`) or file")
    sl.add_argument("--dir", default="slurm-jobs", help="folder for the scripts (default "
                    "slurm-jobs; scripts already there are never overwritten)")
    sl.add_argument("--runs-per-task", type=_bounded("--runs-per-task", 1, 10**9), default=50,
                    help="runs per array task (default 50): the array has ceil(runs / this) "
                         "tasks")
    sl.add_argument("--shards", type=_bounded("--shards", 1, 10**6), default=None,
                    help="array tasks, instead of --runs-per-task")
    sl.add_argument("--cpus", type=_bounded("--cpus", 1, 4096), default=4,
                    help="CPUs (worker processes) per task (default 4)")
    sl.add_argument("--time", default="04:00:00", help="time limit per task (default "
                    "04:00:00; a task that runs out is requeued or resubmitted and goes on)")
    sl.add_argument("--account", default=None, help="SLURM account (default: a placeholder)")
    sl.add_argument("--partition", default=None,
                    help="SLURM partition (default: a placeholder)")
    sl.add_argument("--env", default=None, metavar="COMMAND",
                    help="shell line that activates the environment with ruralgov, e.g. "
                         "'source ~/venvs/ruralgov/bin/activate' (default: a check that "
                         "stops the job with a message until one is added)")
    sl.add_argument("--out", default=None,
                    help="the sweep's results folder (default results/sweeps/<experiment>)")
    sl.set_defaults(func=_cmd_slurm)


def _add_analyze(sub) -> None:
    an = sub.add_parser(
        "analyze", help="tables, figures and sensitivity indices of a sweep",
        description="Analyse a sweep folder: means and 95% confidence intervals per design "
                    "point; main effects and interaction heatmaps (factorial); Sobol' indices "
                    "(sobol); Morris mu*/sigma (morris); rank correlations (latin). Writes a "
                    "new folder <results>/analysis with CSV tables, PNG figures and SUMMARY.md.")
    an.add_argument("results", help="the folder `ruralgov sweep` wrote")
    an.add_argument("--measures", default=None,
                    help="comma-separated summary columns (default: compliance_final, "
                         "voluntary_share_final, legitimacy_mean_final, grievance_mean_final, "
                         "petitions_new_final, protesters_final, substitution_index_final)")
    an.add_argument("--out", default=None, help="analysis folder (default <results>/analysis)")
    an.set_defaults(func=_cmd_analyze)


def _add_discover(sub) -> None:
    dc = sub.add_parser(
        "discover", help="scenario discovery (PRIM): where in a sweep an outcome happens",
        description="Find the box of parameter values in which the runs of a sweep with an "
                    "outcome concentrate (PRIM, as in EMA Workbench), on a random half of its "
                    "design points, tested on the other half; at most --max-dims restricted "
                    "parameters, each with its quasi-p value; the peeling trajectory as a "
                    "figure; feature scores for every factor. Writes a new folder "
                    "<results>/discovery (needs the analysis extra).")
    dc.add_argument("results", help="the folder `ruralgov sweep` wrote")
    dc.add_argument("--outcome", required=True,
                    help="a column of the runs table or an expression of columns "
                         "(+ - * / **, log, min, max, ...), e.g. protesters_final")
    rule = dc.add_mutually_exclusive_group(required=True)
    for name, what in (("above", "outcome above this value"),
                       ("below", "outcome below this value"),
                       ("top", "the share of runs with the highest outcome, e.g. 0.2"),
                       ("bottom", "the share of runs with the lowest outcome")):
        rule.add_argument(f"--{name}", type=_real(f"--{name}"), metavar="X", help=what)
    dc.add_argument("--factors", default=None,
                    help="comma-separated parameters to restrict (default: the sweep's factors)")
    dc.add_argument("--threshold", type=_real("--threshold", 0.0, 1.0), default=0.8,
                    help="smallest density of a candidate box (default 0.8)")
    dc.add_argument("--max-dims", type=_bounded("--max-dims", 1, 100), default=3,
                    help="most restricted parameters a box may have (default 3)")
    dc.add_argument("--train-share", type=_real("--train-share", 0.05, 0.95), default=0.5,
                    help="share of design points the box is found on (default 0.5)")
    dc.add_argument("--alpha", type=_real("--alpha", 0.0, 1.0), default=0.05,
                    help="restrictions with a larger quasi-p are dropped (default 0.05)")
    dc.add_argument("--seed", type=_bounded("--seed", 0, 2**32 - 1), default=0,
                    help="seed of the split and the feature scores (default 0)")
    dc.add_argument("--out", default=None, help="folder (default <results>/discovery)")
    dc.set_defaults(func=_cmd_discover)


def _cmd_discover(args: argparse.Namespace) -> int:
    from ruralgov.analysis.discover import RULES, discover_sweep

    rule = next(r for r in RULES if getattr(args, r) is not None)
    factors = None
    if args.factors is not None:
        factors = [f.strip() for f in args.factors.split(",")]
        if not all(factors):
            raise InputError(f"--factors {args.factors!r}: give comma-separated parameters "
                             "(no empty entries)")
    out = discover_sweep(args.results, args.outcome, rule, getattr(args, rule), factors,
                         out=args.out, threshold=args.threshold, max_dims=args.max_dims,
                         train_share=args.train_share, alpha=args.alpha, seed=args.seed)
    print(f"scenario discovery written to {out} (start with {out / 'DISCOVERY.md'})")
    return 0


def _add_search(sub) -> None:
    se = sub.add_parser(
        "search", help="directed search: lever settings that best meet objectives under "
                       "constraints; resumable",
        description="Search lever settings (NSGA-II, optuna) for one to three objectives under "
                    "constraints, as a search file declares (experiments/search/; "
                    "docs: researcher guide). Each generation is a sweep with common random "
                    "numbers in <out>/gen-NNN; rerun the same command to continue an "
                    "interrupted search, or with more --generations to extend a finished one. "
                    "Writes trials.parquet, pareto.png and SEARCH.md (needs the analysis "
                    "extra).")
    se.add_argument("search", help="search file or name, e.g. search/quiet_county")
    se.add_argument("--profile", default=None, help="a profile the file declares (e.g. quick)")
    se.add_argument("--generations", type=_bounded("--generations", 1, 1000), default=None,
                    help="generations to run in all (default: the file's)")
    se.add_argument("--workers", type=_bounded("--workers", 1, 4096), default=None,
                    help="local worker processes (default: all cores; 1 = in this process)")
    se.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="a running Dask cluster: tcp://host:8786 or a scheduler JSON file")
    se.add_argument("--out", default=None,
                    help="folder (default results/search/<name>[-<profile>])")
    se.add_argument("--quiet", action="store_true", help="no progress lines")
    se.set_defaults(func=_cmd_search)


def _cmd_search(args: argparse.Namespace) -> int:
    from ruralgov.study.search import run_search

    if args.scheduler and args.workers:
        raise InputError("--workers and --scheduler exclude each other: the cluster decides")
    out = run_search(args.search, profile=args.profile, out=args.out,
                     generations=args.generations, progress=not args.quiet,
                     workers=args.workers, scheduler=args.scheduler)
    meta = json.loads((out / "search.json").read_text())
    print(f"search written to {out} (start with {out / 'SEARCH.md'}): {meta['candidates']} "
          f"candidates, {meta['feasible']} feasible, {meta['pareto']} Pareto-optimal")
    return 0


def _add_paths(sub) -> None:
    pa = sub.add_parser(
        "paths", help="which way an effect can go: the causal paths from a factor to a measure",
        description="The model's signed causal paths from a parameter to a measure in a "
                    "scenario's county (docs/causal.md): how many raise it and how many lower "
                    "it, the shortest of each sign, and the class a test of that direction "
                    "gets (check: one sign only; finding: both). With --edges, the table of "
                    "every direct effect instead.")
    pa.add_argument("factor", nargs="?", help="a parameter, e.g. enforcement")
    pa.add_argument("measure", nargs="?", help="a measure, e.g. compliance_final")
    pa.add_argument("--scenario", default="baseline", help="the county (default baseline)")
    pa.add_argument("--edges", action="store_true", help="print every edge (Markdown)")
    pa.set_defaults(func=_cmd_paths)


def _cmd_paths(args: argparse.Namespace) -> int:
    from ruralgov.io.scenario import load_scenario
    from ruralgov.model import causal
    from ruralgov.model.params import REGISTRY, defaults

    if args.edges:
        print(causal.edges_markdown(), end="")
        return 0
    if not args.factor or not args.measure:
        raise InputError("ruralgov paths: give a factor and a measure (e.g. `ruralgov paths "
                         "enforcement compliance_final`), or --edges")
    if args.factor not in REGISTRY:
        raise InputError(f"ruralgov paths: {args.factor!r} is not a parameter (see "
                         "`ruralgov params`)")
    params = {**defaults(), **load_scenario(args.scenario).resolved({})}
    print(causal.describe(params, args.factor, args.measure))
    return 0


def _add_reproduce(sub) -> None:
    rp = sub.add_parser(
        "reproduce", help="test the paper's hypotheses and write a report",
        description="Run every hypothesis experiment in experiments/paper through the sweep "
                    "layer (parallel, resumable), apply its pre-registered tests and write "
                    "REPORT.md with a figure, the numbers and the verdict per hypothesis.")
    rp.add_argument("--profile", choices=("quick", "full"), default="quick",
                    help="quick: small counties, minutes (default); full: as published")
    rp.add_argument("--only", default=None, help="comma-separated ids, e.g. H1,H12")
    rp.add_argument("--workers", type=_bounded("--workers", 1, 4096), default=None,
                    help="local worker processes")
    rp.add_argument("--out", default=None,
                    help="folder (default results/paper-quick or results/paper)")
    rp.add_argument("--quiet", action="store_true", help="no progress bars")
    rp.add_argument("--no-update-check", action="store_true",
                    help="skip the robustness check that reruns every experiment with "
                         "random-sequential updating (halves the time)")
    rp.add_argument("--no-size-check", action="store_true",
                    help="skip the robustness check that reruns every experiment in a county "
                         "of twice the villagers")
    rp.add_argument("--knockouts", choices=("none", "credited", "all"), default="credited",
                    help="rerun each experiment with mechanisms switched off and re-judge its "
                         "findings: credited (each mechanism a finding credits, then only "
                         "those; default), all (every mechanism switch in turn), none")
    rp.add_argument("--robustness", default=None, metavar="FOLDER",
                    help="a finished `ruralgov robustness` folder: each hypothesis's section "
                         "gives its tests' shares of supported points")
    rp.add_argument("--posterior", default=None, metavar="FOLDER",
                    help="a finished `ruralgov robustness --posterior` folder: each test's "
                         "posterior probability of being supported")
    rp.set_defaults(func=_cmd_reproduce, resumable=True)
    rb = sub.add_parser(
        "robustness", help="re-judge the hypotheses across the parameter space",
        description="Re-judge every hypothesis experiment at Latin-hypercube points over the "
                    "uncertain parameters it does not manipulate (experiments/robustness/"
                    "uncertainty.yaml): the share of points where each test is supported, "
                    "mixed and not supported, PRIM boxes, and the stability of the shares "
                    "under a second root seed. Runs on the sweep engine (resumable).")
    rb.add_argument("--profile", default=None,
                    help="a profile of the spec file (quick: a few points, one root seed)")
    rb.add_argument("--only", default=None, help="comma-separated ids, e.g. H1,H12")
    rb.add_argument("--spec", default="robustness/uncertainty",
                    help="the robustness spec (name or file)")
    rb.add_argument("--posterior", default=None, metavar="PARQUET",
                    help="points drawn from a calibration's posterior.parquet instead of the "
                         "hypercube: each test's posterior probability of being supported")
    rb.add_argument("--workers", type=_bounded("--workers", 1, 4096), default=None,
                    help="local worker processes")
    rb.add_argument("--out", default=None,
                    help="folder (default results/robustness or results/robustness-quick)")
    rb.add_argument("--quiet", action="store_true", help="no progress bars")
    rb.add_argument("--summary-only", action="store_true",
                    help="compute the summary, figure and report of the finished study in "
                         "--out again from its robustness.parquet (after an update of "
                         "ruralgov; no run is repeated)")
    rb.set_defaults(func=_cmd_robustness, resumable=True)
    _add_calibrate(sub)


def _add_calibrate(sub) -> None:
    """calibrate: ABC-SMC against a targets file, or its simulation-based calibration."""
    cb = sub.add_parser(
        "calibrate", help="calibrate uncertain parameters to observed magnitudes (ABC-SMC)",
        description="Approximate Bayesian computation (pyabc's ABC-SMC) of the priors in a "
                    "targets file against its observed targets, each with its source and "
                    "tolerance; writes the posterior, a posterior-predictive check on held-out "
                    "targets, a calibrated scenario and CALIBRATION.md. Resumable: run it "
                    "again with the same --out to continue.")
    cb.add_argument("targets", nargs="?", default="calibration/targets",
                    help="targets file (name or path; default calibration/targets)")
    cb.add_argument("--profile", default=None, help="a profile of the targets file (quick)")
    cb.add_argument("--out", default=None,
                    help="folder (default results/calibration/<targets>[-<profile>])")
    cb.add_argument("--workers", type=_bounded("--workers", 1, 4096), default=None,
                    help="local worker processes (1: reproducible bit for bit)")
    cb.add_argument("--dask", default=None, metavar="ADDRESS",
                    help="run the simulations on an existing Dask scheduler")
    cb.add_argument("--sbc", type=_bounded("--sbc", 10, 100_000), default=None, metavar="N",
                    help="instead of calibrating: simulation-based calibration of the method "
                         "on N draws from the priors (into the calibration folder's sbc/; "
                         "resumable; the report gains its coverage section)")
    cb.add_argument("--sbc-accept", type=_bounded("--sbc-accept", 2, 1_000_000), default=None,
                    metavar="K", help="with --sbc: simulations accepted per synthetic truth "
                                      "(default 2.5 %% of N)")
    cb.add_argument("--point", action="store_true",
                    help="instead of calibrating: the point estimate of a finished "
                         "calibration (its best particles re-run over fresh seeds; the one "
                         "with the smallest mean distance, and the stocks it settles at) into "
                         "point.json")
    cb.add_argument("--point-candidates", type=_bounded("--point-candidates", 2, 10_000),
                    default=20, metavar="K", help="with --point: particles re-run (default 20)")
    cb.add_argument("--point-seeds", type=_bounded("--point-seeds", 2, 1000), default=5,
                    metavar="S", help="with --point: seeds per particle (default 5)")
    cb.add_argument("--quiet", action="store_true", help="no progress lines")
    cb.set_defaults(func=_cmd_calibrate, resumable=True)


def _add_dashboard(sub) -> None:
    db = sub.add_parser(
        "dashboard", help="the browser dashboard for training sessions",
        description="Serve the live dashboard (Solara, works offline): pick a scenario, move "
                    "the levers, step or play, compare two settings on the same seed, download "
                    "the data. Needs the dashboard extra: pip install 'ruralgov[dashboard]'.")
    db.add_argument("scenario", nargs="?", default="baseline",
                    help="scenario shown first, by name or file (default: baseline)")
    db.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    db.add_argument("--host", default="127.0.0.1",
                    help="address to serve on (default 127.0.0.1: this machine only; "
                         "0.0.0.0 serves the whole network)")
    db.add_argument("--lang", choices=("en", "zh"), default=None,
                    help="the pages' language at first: English (with Chinese terms) or "
                         "Chinese (default: as each browser asks, Chinese unless it prefers "
                         "English); a switch on the page changes it")
    db.set_defaults(func=_cmd_dashboard)


def _add_room(sub) -> None:
    rm = sub.add_parser(
        "room", help="a participatory training session: trainees play township heads",
        description="Serve a training room: one county on this machine; trainees join from "
                    "their phones with the room's code and each heads a township, choosing its "
                    "levers round by round; the projector page shows the code (and a QR code) "
                    "and the county; the trainer's console (its address, with the key, is "
                    "printed here) starts, pauses, advances, broadcasts, reveals and triggers "
                    "events; the session replays with `ruralgov run`. Chinese pages unless a "
                    "browser asks for English.")
    rm.add_argument("scenario", nargs="?", default="baseline",
                    help="the county, by name or file (default: baseline)")
    rm.add_argument("--seed", type=_bounded("--seed", 0, 2**63 - 1), default=0)
    rm.add_argument("--rounds", type=_bounded("--rounds", 1, 50), default=6,
                    help="rounds in the session (default 6)")
    rm.add_argument("--months", type=_bounded("--months", 1, 120), default=12,
                    help="months the county runs each round (default 12)")
    rm.add_argument("--timer", type=_real("--timer", 10, 3600), default=None, metavar="SECONDS",
                    help="each round's time limit (default: none; the round runs when every "
                         "head has submitted or the trainer advances it)")
    rm.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="NAME=VALUE", help="change a parameter of the scenario")
    rm.add_argument("--port", type=_bounded("--port", 1, 65535), default=8770,
                    help="port (default 8770)")
    rm.add_argument("--lan", action="store_true",
                    help="serve the room's network (phones), not only this machine")
    rm.set_defaults(func=_cmd_room)


def _cmd_room(args: argparse.Namespace) -> int:
    import socket

    from ruralgov.io.extras import require
    from ruralgov.io.scenario import parse_overrides

    require("uvicorn", "the training room")
    require("segno", "the training room's QR code")
    import uvicorn

    from ruralgov.app.room import Room
    from ruralgov.app.room_server import create_app

    room = Room(args.scenario, seed=args.seed, round_months=args.months, rounds=args.rounds,
                round_seconds=args.timer, overrides=parse_overrides(args.overrides))
    host = "0.0.0.0" if args.lan else "127.0.0.1"
    _check_port_free(host, args.port)
    shown = socket.gethostbyname(socket.gethostname()) if args.lan else "127.0.0.1"
    base = f"http://{shown}:{args.port}"
    print(f"ruralgov room: code {room.code}\n  trainees join at {base}/\n"
          f"  projector {base}/projector#{room.trainer_key}\n"
          f"  console   {base}/console#{room.trainer_key}\n"
          + ("  (serving the whole network: --lan)" if args.lan else
             "  (this machine only; --lan lets phones join)"), flush=True)
    uvicorn.run(create_app(room), host=host, port=args.port, log_level="warning")
    return 0


def _bounded(option: str, lo: int, hi: int):
    """An argparse type: a whole number from ``lo`` to ``hi``, refused with the bounds."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r}: a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value}: allowed {lo:,} to {hi:,}")
        return value
    return parse


def _real(option: str, lo: float = -math.inf, hi: float = math.inf):
    """An argparse type: a finite number from ``lo`` to ``hi``, refused with the bounds."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r}: a number") from None
        if not (math.isfinite(value) and lo <= value <= hi):
            raise argparse.ArgumentTypeError(f"{value}: allowed {lo:g} to {hi:g}")
        return value
    return parse


def _seconds(text: str) -> float | str:
    if text == "forever":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of seconds") from None
    if not 0 <= value <= 7 * 86400:
        raise argparse.ArgumentTypeError(f"{text}: 0 to 604800 seconds (a week)")
    return value


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (a service manager, a cluster's time limit or ``scancel``): unwound like
    Ctrl+C, so that finished work is saved and locks are released."""


_HANDLER_PID: int | None = None
"""The process that installed the SIGTERM handler (a forked worker inherits the handler)."""


def _on_sigterm(signum, frame):
    """SIGTERM in the command's process: stop as Ctrl-C would (finished work is kept). In a
    worker it forked (pyabc's, a process pool's), which ``pkill`` reaches too: end at once,
    quietly — the parent keeps what finished — instead of a traceback from each worker."""
    if _HANDLER_PID is not None and os.getpid() != _HANDLER_PID:
        os._exit(128 + signum)
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = None
    if args.command != "dashboard" and threading.current_thread() is threading.main_thread():
        global _HANDLER_PID
        _HANDLER_PID = os.getpid()
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _dispatch(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


#: file-system errors that come from the path a user gave (exit 2), not from the machine
_INPUT_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG,
                           errno.ELOOP, errno.EACCES, errno.EPERM, errno.EROFS, errno.EEXIST,
                           errno.EINVAL})


def _check_run_posterior(args: argparse.Namespace) -> None:
    """`run`'s options for posterior draws: together, and the file readable."""
    if args.posterior is None:
        for option in ("posterior_file", "workers"):
            if getattr(args, option) is not None:
                raise InputError(f"--{option.replace('_', '-')} is for runs over posterior "
                                 "draws: give --posterior N too")
        return
    for option in ("csv", "no_detail", "no_figure"):
        if getattr(args, option):
            raise InputError(f"--{option.replace('_', '-')} is for one run; with --posterior "
                             "the runs go to a sweep folder (runs.parquet)")
    if args.posterior_file is not None:
        from ruralgov.study.robustness import check_posterior

        check_posterior(args.posterior_file, "--posterior-file")


def _check_arguments(args: argparse.Namespace) -> None:
    """What every command's arguments must be, checked before any work and before anything
    is written: output paths that can be written (creating nothing), id lists without empty
    entries, finished study folders and posterior files that can be read, Dask schedulers
    that answer."""
    from ruralgov.io.files import check_writable

    file_out = args.command in ("levers", "stories")  # their --out is a Markdown file
    for option in ("out", "csv"):
        value = getattr(args, option, None)
        if not isinstance(value, str):
            continue
        check_writable(value, f"--{option}", file=option == "csv" or file_out)
    only = getattr(args, "only", None)
    if isinstance(only, str) and not all(x.strip() for x in only.split(",")):
        raise InputError(f"--only {only!r}: give comma-separated hypothesis ids, e.g. H1,H12 "
                         "(no empty entries)")
    posterior = getattr(args, "posterior", None)
    if args.command == "robustness" and posterior is not None:
        from ruralgov.study.robustness import check_posterior

        check_posterior(posterior)
    if args.command == "run":
        _check_run_posterior(args)
    if args.command == "calibrate" and args.sbc is None and args.sbc_accept is not None:
        raise InputError("--sbc-accept is for the simulation-based calibration: give --sbc N "
                         "too")
    if args.command == "calibrate" and args.sbc is not None and args.sbc_accept is not None \
            and args.sbc_accept >= args.sbc:
        raise InputError(f"--sbc-accept {args.sbc_accept}: allowed 2 to {args.sbc - 1} (fewer "
                         f"than the {args.sbc} reference simulations of --sbc)")
    for option in ("dask", "scheduler"):
        if getattr(args, option, None):
            from ruralgov.study.evaluator import check_scheduler

            check_scheduler(getattr(args, option), f"--{option}")


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command; every expected failure is one line on stderr and an exit status."""
    try:
        _check_arguments(args)
        status = args.func(args)
        sys.stdout.flush()  # a closed pipe shows up here, inside the try, not at exit
        return status
    except InputError as err:
        print(f"ruralgov: error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except DiskFull as err:
        print(f"ruralgov: error: {err.strerror}", file=sys.stderr)
        return 1
    except MemoryError:  # the estimate of ruralgov.model.footprint passed, the machine did not
        print("ruralgov: error: out of memory; a smaller county (--set n_villagers=...) or "
              "fewer workers", file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:
        print("\nruralgov: interrupted; " + (
            "finished runs are saved — rerun the same command to go on"
            if getattr(args, "resumable", False) else "nothing was written"), file=sys.stderr)
        return 143 if isinstance(stop, Terminated) else 130
    except BrokenPipeError:  # e.g. `ruralgov params | head`: the reader has had enough
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # a path the checks could not foresee (a permission, a name too
        # long for this file system, a folder removed meanwhile): one line naming it
        import os

        if os.environ.get("RURALGOV_DEBUG"):
            raise
        where = f"{err.filename}: " if err.filename else ""
        print(f"ruralgov: error: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_INPUT if err.errno in _INPUT_ERRNOS else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
