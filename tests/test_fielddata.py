"""Field data: a real county's villagers and ties from files (docs/ODD.md section 6)."""

import networkx as nx
import numpy as np
import pytest

from ruralgov.io.fielddata import load_population
from ruralgov.io.scenario import load_scenario
from ruralgov.model import RuralGovernanceModel
from ruralgov.model.schema import InputError
from ruralgov.study.runner import run_scenario

VILLAGERS = """id,township,village,lineage,elder,hardship,legitimacy
a,North,Li,Li,1,0.2,0.7
b,North,Li,Li,0,0.5,0.5
c,North,Li,Wang,0,0.9,0.3
d,South,Li,Zhang,0,0.4,0.6
e,South,Zhou,Zhou,true,0.1,0.8
f,South,Zhou,Zhou,false,0.6,0.4
"""
EDGES = """source,target
a,b
b,a
a,c
d,e
e,f
c,d
"""


@pytest.fixture
def files(tmp_path):
    v = tmp_path / "villagers.csv"
    e = tmp_path / "edges.csv"
    v.write_text(VILLAGERS)
    e.write_text(EDGES)
    return v, e


def test_csv_population_structure_and_attributes(files):
    pop = load_population(*files)
    assert pop.n == 6 and pop.n_townships == 2
    assert pop.n_villages == 3  # "Li" in North and "Li" in South are different villages
    assert pop.n_lineages == 4
    assert pop.elder.tolist() == [True, False, False, False, True, False]
    np.testing.assert_allclose(pop.attributes["hardship"], [0.2, 0.5, 0.9, 0.4, 0.1, 0.6])
    a = pop.adjacency
    assert (a != a.T).nnz == 0 and a.nnz == 2 * 5  # the duplicate a-b tie counts once
    assert (pop.village_township[pop.village] == pop.township).all()


def test_model_uses_field_data(files):
    pop = load_population(*files)
    m = RuralGovernanceModel(seed=1, population=pop)
    np.testing.assert_allclose(m.villagers.hardship, pop.attributes["hardship"])
    np.testing.assert_allclose(m.villagers.legitimacy, pop.attributes["legitimacy"], rtol=1e-6)
    m.step()
    assert m.p["n_villagers"] == 6 and len(m.townships) == 2


def test_graphml_equivalent_to_csv(files, tmp_path):
    g = nx.Graph()
    for line in VILLAGERS.strip().splitlines()[1:]:
        i, t, v, lin, el, h, leg = line.split(",")
        g.add_node(i, township=t, village=v, lineage=lin, elder=el in ("1", "true"),
                   hardship=float(h), legitimacy=float(leg))
    for line in EDGES.strip().splitlines()[1:]:
        g.add_edge(*line.split(","))
    path = tmp_path / "county.graphml"
    nx.write_graphml(g, path)
    a, b = load_population(*files), load_population(graphml=path)
    assert a.n == b.n and a.n_villages == b.n_villages and a.n_lineages == b.n_lineages
    assert (a.adjacency != b.adjacency).nnz == 0
    assert a.elder.tolist() == b.elder.tolist()


def test_scenario_with_network_runs(files, tmp_path):
    sc = tmp_path / "field.yaml"
    sc.write_text("title: Field county\nstory: Real data.\nnetwork:\n"
                  "  villagers: villagers.csv\n  edges: edges.csv\n")
    r = run_scenario(load_scenario(sc), seed=2, steps=3)
    assert r.population_source == "villagers.csv + edges.csv"
    assert len(r.series) == 3


@pytest.mark.parametrize("vtext, etext, needle", [
    (VILLAGERS.replace("hardship", "wealth"), EDGES, "unknown column(s) wealth"),
    (VILLAGERS.replace("0.9,0.3", "1.9,0.3"), EDGES, "row 4, column hardship: '1.9'"),
    (VILLAGERS.replace("e,South", "a,South"), EDGES, "row 6, column id: duplicate id 'a'"),
    (VILLAGERS, EDGES + "a,zz\n", "row 8, column target: villager id 'zz' is not in"),
    (VILLAGERS.replace(",1,0.2", ",maybe,0.2"), EDGES, "column elder: 'maybe'"),
    ("id,township\na,N\n", EDGES, "missing column(s) village"),
    (VILLAGERS, "from,to\na,b\n", "unknown column(s) from, to"),
])
def test_bad_field_data_names_file_row_and_column(tmp_path, vtext, etext, needle):
    v = tmp_path / "v.csv"
    e = tmp_path / "e.csv"
    v.write_text(vtext)
    e.write_text(etext)
    with pytest.raises(InputError) as info:
        load_population(v, e)
    assert needle in str(info.value)
    assert ("v.csv" in str(info.value)) or ("e.csv" in str(info.value))


def test_missing_or_broken_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_population(tmp_path / "x.csv", tmp_path / "y.csv")
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><oops")
    with pytest.raises(InputError, match="not a readable GraphML"):
        load_population(graphml=bad)


# ------------------------------------------------------------------ hostile field data
def test_villagers_without_ties_anywhere_work_even_the_last(tmp_path):
    v = tmp_path / "v.csv"
    e = tmp_path / "e.csv"
    v.write_text(VILLAGERS + "g,South,Zhou,Zhou,0,0.5,0.5\n")  # g: the last, no ties
    e.write_text("source,target\na,b\n")  # most villagers have no ties either
    pop = load_population(v, e)
    m = RuralGovernanceModel(seed=1, population=pop)
    for _ in range(5):
        m.step()
    assert m.structure.weights[-1].nnz == 0 and len(m.series()) == 5


def test_a_generated_county_whose_last_villager_has_no_ties_runs():
    m = RuralGovernanceModel(seed=0, n_villagers=400, ties_within_lineage=0.0,
                             ties_within_village=0.5, ties_between_villages=0.0,
                             elder_share=0.0)
    assert not m.structure.ties.has_neighbours.all()
    for _ in range(3):
        m.step()


def test_ids_that_differ_only_by_spaces_are_one_id(tmp_path):
    v = tmp_path / "v.csv"
    e = tmp_path / "e.csv"
    v.write_text("id,township,village\na,T,V\n a ,T,V\n")
    e.write_text("source,target\na,a \n")
    with pytest.raises(InputError, match=r"row 3, column id: duplicate id 'a' \(also at row 2"):
        load_population(v, e)


def test_a_row_longer_or_shorter_than_the_header_is_refused_with_its_row(tmp_path, files):
    vpath, epath = files
    for extra in ("h,North,Li,Li,0,0.5,0.5,surplus\n", "h,North,Li\n"):
        bad = tmp_path / "ragged.csv"
        bad.write_text(VILLAGERS + extra)
        with pytest.raises(InputError, match=r"ragged.csv: row 8 has \d+ fields, the header 7"):
            load_population(bad, epath)
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("source,target\na,b,c\n")
    with pytest.raises(InputError, match="row 2 has 3 fields"):
        load_population(vpath, shifted)


def test_graphml_problems_name_the_node_not_a_row(tmp_path):
    g = nx.Graph()
    g.add_node("a", township="T", village="V", elder="maybe")
    g.add_node("b", township="T", village="V")
    g.add_edge("a", "b")
    path = tmp_path / "county.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(InputError, match=r"node 'a', attribute elder: 'maybe'") as err:
        load_population(graphml=path)
    assert "row" not in str(err.value)


def _field_experiment(tmp_path, files):
    import yaml

    vpath, epath = files
    (tmp_path / "county.yaml").write_text(yaml.safe_dump({
        "title": "A county", "story": "Field data.", "steps": 5,
        "network": {"villagers": vpath.name, "edges": epath.name}}))
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({
        "title": "t", "description": "d", "scenario": "county.yaml", "steps": 5,
        "replications": 2, "root_seed": 1, "design": {"type": "factorial"},
        "factors": {"enforcement": [0.1, 0.4]}}))
    return tmp_path / "exp.yaml"


def test_field_data_are_hashed_and_a_changed_file_is_refused_on_resume(tmp_path, files):
    from ruralgov.study.experiment import load_experiment
    from ruralgov.study.sweep import run_sweep

    exp_file = _field_experiment(tmp_path, files)
    exp = load_experiment(exp_file)
    assert set(exp.definition()["scenario"]["field_data_sha256"]) == {"villagers", "edges"}
    out = tmp_path / "out"
    run_sweep(exp, out, workers=1, progress=False)
    vpath, _ = files
    vpath.write_text(VILLAGERS.replace("0.2,0.7", "0.9,0.1"))  # another county now
    with pytest.raises(InputError, match="different experiment definition"):
        run_sweep(load_experiment(exp_file), out, workers=1, progress=False)
    # and a run of the scenario loaded before the edit refuses to mix the two
    with pytest.raises(InputError, match="changed since the scenario was loaded"):
        run_scenario(exp.scenario, seed=1, steps=2)


def test_a_runs_manifest_records_its_field_data_hashes(tmp_path, files):
    import hashlib
    import json

    from ruralgov.study.runner import write_run

    exp_file = _field_experiment(tmp_path, files)
    res = run_scenario(load_scenario(exp_file.with_name("county.yaml")), seed=1, steps=2)
    folder = write_run(res, tmp_path / "run", figure=False)
    field = json.loads((folder / "manifest.json").read_text())["scenario"]["field_data"]
    vpath, _ = files
    assert field["villagers"]["sha256"] == hashlib.sha256(vpath.read_bytes()).hexdigest()


def test_generator_parameters_with_field_data_are_refused_not_ignored(tmp_path, files):
    from ruralgov.study.experiment import load_experiment

    exp_file = _field_experiment(tmp_path, files)
    scenario = load_scenario(exp_file.with_name("county.yaml"))
    with pytest.raises(InputError, match="n_villagers has no effect with field data"):
        run_scenario(scenario, seed=1, steps=2, overrides={"n_villagers": 5000})
    import yaml

    doc = yaml.safe_load(exp_file.read_text())
    doc["factors"] = {"ties_within_village": [1.0, 2.0]}
    exp_file.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="ties_within_village has no effect with field data"):
        load_experiment(exp_file)
