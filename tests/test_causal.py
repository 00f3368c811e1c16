"""The signed causal graph (ruralgov.model.causal, docs/causal.md): every declared edge has
the sign the code gives it, and the classes computed from the paths."""

from __future__ import annotations

import numpy as np
import pytest

from ruralgov.model import causal
from ruralgov.model.causal import EDGES, Edge, causal_graph, classify
from ruralgov.model.params import REGISTRY as PARAM_BY_NAME
from ruralgov.model.params import defaults
from ruralgov.model.schedule import SCHEDULE

#: the probe county: small and busy — every aggrieved villager files, the willing protest,
#: disputes are frequent and townships short of capacity — so that each submodel has events
#: whose counts can move
PROBE = dict(n_villagers=2000, hardship_mean=0.6, legitimacy_initial=0.35, matter_window=0,
             petition_propensity=1.0, protest_trigger=0.0, mech_answer_speed=True,
             dispute_rate=0.2, scandal_start=20, scandal_duration=12, campaign_start=20,
             campaign_duration=12)
#: where an edge exists only above (or below) some value, the probe's value
CONDITIONS = dict(withdrawal_step=24, compact_rate=0.05, petition_propensity=0.5,
                  matter_window=6, petition_persistence=0.5, protest_trigger=0.02,
                  strategic_escalation=0.2, habit_memory=0.5, misrouting=0.3,
                  policy_credit=0.5, cadre_mediation=0.3, conflict_blame_upper=0.5,
                  cadre_shield=0.3, cadre_voice=0.3, hardship_shock=0.01, record_memory=6.0,
                  rules_total=8, diffuse_support=0.05)
#: per submodel, what its events need in the probe county
BY_SUBMODEL = {
    "township_plan": dict(reprimand_pressure=0.002),    # pressure not at its ceiling
    "township_report": dict(reprimand_pressure=0.002),
    "services": dict(assistance_review=1),              # a review every step
}

SUBMODELS = {f.__name__ for f in SCHEDULE} | {"initialise"}


def _probe(e: Edge) -> dict:
    p = {**PROBE, **BY_SUBMODEL.get(e.submodel, {})}
    p.update({k: CONDITIONS[k] for k, v in e.when.items() if isinstance(v, str)})
    return p


def _checkable(e: Edge) -> bool:
    kind, name = e.source.split(":", 1)
    if kind == "param":
        return PARAM_BY_NAME[name].type in ("float", "int")
    return kind in ("villager", "rules", "township", "scratch")


ORDER = {name: i for i, name in enumerate(["initialise"] + [f.__name__ for f in SCHEDULE])}
#: quantities every step starts with (zeros), added to by the submodels
ACCUMULATORS = {"scratch:gains", "scratch:losses", "scratch:grievance_in",
                "scratch:gains_upper", "scratch:losses_upper"}


#: states a submodel writes before it reads them again (the new choice feeds what is kept
#: and the habit)
RECOMPUTED = {("compliance_decision", "rules:comply")}


def _computed_in(e: Edge) -> bool:
    """Whether the edge's source is a quantity its own submodel computes (the step's scratch
    no earlier submodel writes, or a state it recomputes first): it has no value to raise
    before the submodel runs."""
    if e.source == e.target:
        return False
    if (e.submodel, e.source) in RECOMPUTED:
        return e.target != "rules:voluntary"  # the habit term reads last step's choice
    if not e.source.startswith("scratch:") or e.source in ACCUMULATORS:
        return False
    return not any(d.target == e.source and ORDER[d.submodel] < ORDER[e.submodel]
                   for d in EDGES)


def _direct(e: Edge) -> bool:
    """An edge from what the submodel finds when it starts (not from what it computes)."""
    return _checkable(e) and e.source != e.target and not _computed_in(e)


@pytest.mark.parametrize("edge", [e for e in EDGES if _direct(e)],
                         ids=lambda e: f"{e.submodel}:{e.source}->{e.target}")
def test_every_edge_has_the_sign_the_code_gives_it(edge):
    """The submodel run twice from one state and the same draws, the source raised: the
    target moves the declared way (a wrong sign, or no effect at all, fails)."""
    change = causal.edge_response(edge, _probe(edge), seeds=range(5))
    if edge.sign == 0:  # either way: the effect exists, its sign depends on the state
        assert change != 0, (edge, change)
    else:
        assert np.sign(change) == edge.sign, (edge, change)


def _composites():
    """For an edge from a quantity the submodel itself computes (X -> T), the submodel's
    inputs Y with an edge Y -> X: raising Y must move T by the product of the signs of the
    submodel's paths Y -> X -> T (when they all agree)."""
    out = []
    for e in EDGES:
        if not _computed_in(e):
            continue
        inner = [d for d in EDGES if d.submodel == e.submodel and d.source != d.target]
        g = causal_graph(None, inner)
        for d in inner:
            if d.target != e.source or not _direct(d) or d.source == e.target:
                continue
            signs = {s for nodes, s in causal.causal_paths(g, d.source, e.target)
                     if e.source in nodes}
            if len(signs) == 1 and 0 not in signs:
                out.append(Edge(d.source, e.target, signs.pop(), e.submodel,
                                {**d.when, **e.when}, probe={**d.probe, **e.probe}))
    return list({(c.source, c.target, c.submodel): c for c in out}.values())


@pytest.mark.parametrize("edge", _composites(),
                         ids=lambda e: f"{e.submodel}:{e.source}=>{e.target}")
def test_edges_from_what_a_submodel_computes_compose(edge):
    change = causal.edge_response(edge, _probe(edge), seeds=range(5))
    assert np.sign(change) == edge.sign, (edge, change)


def test_classes_of_a_small_graph():
    e = [Edge("param:a", "x", 1, "petitions"), Edge("x", "measure:y", 1, "collect"),
         Edge("param:a", "z", -1, "petitions"), Edge("z", "measure:y", 1, "collect"),
         Edge("param:b", "x", -1, "petitions")]
    g = causal_graph(None, e)
    assert classify(g, "a", "y_final")["class"] == "finding"
    b = classify(g, "b", "y_final")
    assert b["class"] == "check" and b["sign"] == -1 and b["paths_negative"] == 1
    assert classify(g, "c", "y_final")["class"] == "no path"
    off = causal_graph({"mech_x": False}, [Edge("param:a", "measure:y", 1, "petitions",
                                                 {"mech_x": True})])
    assert classify(off, "a", "y")["class"] == "no path"


def test_every_paper_test_of_a_lever_has_a_causal_path(repo_root):
    """Each direction test of experiments/paper reaches its measure in the default county's
    graph: a lever with no path to what it is tested on is a gap in the declared edges."""
    import networkx as nx

    from ruralgov.study.experiment import load_experiment

    missing = []
    for f in sorted((repo_root / "experiments" / "paper").glob("*.yaml")):
        exp = load_experiment(f)
        g = causal_graph({**defaults(), **exp.base})
        for t in exp.hypothesis.tests:
            for factor in [t.factor] if t.factor else (t.factors or []):
                if t.measure.endswith(causal.EVENT_ENDINGS):
                    continue
                target = causal.outcome_node(t.measure, g)
                if target is None or not nx.has_path(g, f"param:{factor}", target):
                    missing.append((exp.hypothesis.id, factor, t.measure))
    assert not missing, missing


def test_the_edge_table_of_the_docs_is_the_code(repo_root):
    text = (repo_root / "docs" / "causal.md").read_text(encoding="utf-8")
    table = text.split("<!-- edges:start -->\n")[1].split("<!-- edges:end -->")[0]
    assert table == causal.edges_markdown(), "regenerate it: `ruralgov paths --edges`"


def test_paths_cli_names_the_class_and_rejects_an_unknown_factor(capsys):
    from ruralgov.app.cli import main

    assert main(["paths", "transmission_levels", "implementation_fidelity_final"]) == 0
    out = capsys.readouterr().out
    assert "check" in out and "shortest -" in out
    assert main(["paths", "no_such_parameter", "compliance_final"]) == 2
    assert "not a parameter" in capsys.readouterr().err
