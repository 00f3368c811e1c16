"""How the default county compares with the published magnitudes: the table of ODD §1.3,
generated from the code (``ruralgov magnitudes``), never written by hand.

The ``baseline`` scenario runs at its defaults — nothing of the targets file's county is
applied — for the calibration's number of steps, on a few seeds stepped together; every
target of the calibration's targets file is measured as the calibration measures it (over the
last quarter of the run, after the burn-in), beside three properties the issue of realistic
magnitudes asks of the default: township pressure below 0.9, legitimacy stationary over the
final window (by the report's rule: its drift no larger than half the smallest effect that
counts for legitimacy, 0.02), and every target's measure within its tolerance on every seed
(sanctions have no sourced target: their rate is shown).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["magnitudes", "markdown", "SEEDS", "PRESSURE_BELOW", "LEGITIMACY_DRIFT"]

SEEDS = (1, 2, 3)
"""The seeds of the table."""
PRESSURE_BELOW = 0.9
"""Township pressure the default county stays below (it saturated at 1 before calibration)."""
LEGITIMACY_DRIFT = 0.01
"""Largest drift of mean legitimacy over the final window (second half minus first) that
counts as stationary: half the smallest effect on legitimacy the hypotheses' tests count."""


def magnitudes(targets: str | Path = "calibration/targets", seeds: tuple[int, ...] = SEEDS,
               scenario: str = "baseline") -> dict[str, Any]:
    """Run the default county and measure it against every target."""
    from ruralgov.study.calibrate import _measure, error, load_targets
    from ruralgov.study.runner import run_ensemble

    spec, path = load_targets(targets)
    results = run_ensemble(scenario, list(seeds), steps=spec.steps)
    summaries = [r.summary for r in results]
    rows = []
    for t in spec.targets:
        vals = np.array([float(_measure(t).evaluate(s)) for s in summaries])
        within = bool(np.all(np.abs(error(t, vals)) <= 1))
        rows.append({"target": t.name, "held_out": t.held_out, "value": t.value,
                     "tolerance": t.tolerance, "scale": t.scale, "measure": t.measure,
                     "mean": float(np.mean(vals)), "low": float(np.min(vals)),
                     "high": float(np.max(vals)), "within": within})
    first = results[0].parameters
    checks = {
        "pressure": [float(s["pressure_mean_final"]) for s in summaries],
        "legitimacy": [float(s["legitimacy_mean_final"]) for s in summaries],
        "legitimacy_drift": [float(s["legitimacy_mean_final_drift"]) for s in summaries],
        "sanctions_per_1000_year": [float(s["sanctions_per_1000_year"]) for s in summaries],
        "compliance": [float(s["compliance_final"]) for s in summaries]}
    return {"targets_file": str(path), "scenario": scenario, "seeds": list(seeds),
            "steps": spec.steps, "villagers": int(first["n_villagers"]),
            "townships": int(first["n_townships"]),
            "villages_per_township": int(first["villages_per_township"]),
            "rows": rows, "checks": checks}


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def markdown(m: dict[str, Any]) -> str:
    """The table as the ODD prints it."""
    c = m["checks"]
    lines = [f"`{m['scenario']}` at its defaults ({m['villagers']:,} villagers in "
             f"{m['townships']} township(s) of {m['villages_per_township']} villages), "
             f"{m['steps']} steps (months), seeds {', '.join(map(str, m['seeds']))}; each "
             "measure over the last quarter of the run, as the calibration measures it "
             "(`ruralgov magnitudes`; `docs/calibration.md` explains every target).", "",
             "| target | use | published | tolerance | baseline: mean (range over seeds) | "
             "within tolerance on every seed |", "|---|---|---:|---|---|---|"]
    for r in m["rows"]:
        tol = f"×/÷ {r['tolerance']:g}" if r["scale"] == "log" else f"± {r['tolerance']:g}"
        lines.append(f"| {r['target']} | {'held out' if r['held_out'] else 'fitted'} | "
                     f"{r['value']:g} | {tol} | {_num(r['mean'])} ({_num(r['low'])}–"
                     f"{_num(r['high'])}) | {'yes' if r['within'] else '**no**'} |")
    drift = max(abs(x) for x in c["legitimacy_drift"])
    lines += ["", f"Township pressure {min(c['pressure']):.3f}–{max(c['pressure']):.3f} "
              f"({'below' if max(c['pressure']) < PRESSURE_BELOW else '**not below**'} "
              f"{PRESSURE_BELOW}); mean legitimacy {min(c['legitimacy']):.3f}–"
              f"{max(c['legitimacy']):.3f}, drift over the final window at most {drift:.4f} "
              f"({'stationary' if drift <= LEGITIMACY_DRIFT else '**still moving**'}: the "
              f"rule is {LEGITIMACY_DRIFT}); compliance {min(c['compliance']):.3f}–"
              f"{max(c['compliance']):.3f}; sanctions {_num(min(c['sanctions_per_1000_year']))}"
              f"–{_num(max(c['sanctions_per_1000_year']))} per 1,000 villagers a year (no "
              "rural source of enforcement counts was found, so sanctions have no target)."]
    return "\n".join(lines)
