"""docs/ODD.md and the code cannot drift: the parameter table is the registry's, every
submodel of step() has a section, every mechanism switch is described."""

import inspect
import re
from pathlib import Path

from ruralgov.model import RuralGovernanceModel
from ruralgov.model.params import MECHANISMS, markdown_table

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def _text():
    return ODD.read_text(encoding="utf-8")


def test_parameter_table_is_generated_from_the_registry():
    text = _text()
    block = re.search(r"<!-- params-table:start -->\n(.*?)\n<!-- params-table:end -->", text,
                      re.S)
    assert block, "docs/ODD.md lacks the params-table markers"
    assert block.group(1).strip() == markdown_table().strip(), (
        "the ODD parameter table differs from the registry: paste `ruralgov params --markdown`")


def test_every_submodel_of_the_schedule_has_a_section_in_schedule_order():
    from ruralgov.model.schedule import SCHEDULE

    names = [f.__name__ for f in SCHEDULE]
    assert len(names) == len(set(names)) == 15
    text = _text()
    positions = []
    for name in names:
        m = re.search(rf"^### 7\.\d+ `{name}`", text, re.M)
        assert m, f"docs/ODD.md has no section 7 heading for submodel {name}"
        positions.append(m.start())
    assert positions == sorted(positions), "ODD submodel sections are not in schedule order"


def test_the_step_runs_the_schedule_and_nothing_else():
    """step() is a loop over the schedule: the order exists once."""
    from ruralgov.model.schedule import SCHEDULE

    calls = []
    m = RuralGovernanceModel(seed=0, n_villagers=200, n_townships=1, villages_per_township=2)
    def logged(f):
        def run(model, s):
            calls.append(f.__name__)
            f(model, s)
        return run

    m.submodels = tuple(logged(f) for f in SCHEDULE)
    m.step()
    assert calls == [f.__name__ for f in SCHEDULE]
    src = inspect.getsource(RuralGovernanceModel.step)
    assert not any(f"{f.__name__}(" in src for f in SCHEDULE)


def test_every_mechanism_switch_is_described():
    text = _text()
    for switch in MECHANISMS:
        assert f"`{switch}`" in text.split("<!-- params-table:start -->")[0], switch


def test_odd_states_synchronous_updating_and_the_seven_elements():
    text = _text().lower()
    assert "synchronous" in text
    for element in ("purpose", "entities", "process overview", "design concepts",
                    "initialisation", "input data", "submodels"):
        assert element in text, element


#: The ODD protocol's elements and design concepts (Grimm et al. 2020, supplement S1).
ODD_2020_ELEMENTS = ("Purpose and patterns", "Entities, state variables and scales",
                     "Process overview and scheduling", "Design concepts", "Initialisation",
                     "Input data", "Submodels")
ODD_2020_DESIGN_CONCEPTS = ("Basic principles", "Emergence", "Adaptation", "Objectives",
                            "Learning", "Prediction", "Sensing", "Interaction", "Stochasticity",
                            "Collectives", "Observation")


def _sections(text: str) -> dict[str, str]:
    """Each heading's GitHub/site anchor -> the text under it (up to the next heading)."""
    from pymdownx.slugs import slugify

    slug = slugify(case="lower")
    parts = re.split(r"^(#{1,4}) (.+)$", text, flags=re.M)
    out = {}
    for i in range(1, len(parts) - 2, 3):
        out[slug(parts[i + 1], "-")] = parts[i + 2]
    return out


def test_odd_2020_checklist_answers_every_element_with_a_real_section():
    text = _text()
    m = re.search(r"^## 11\. ODD 2020 checklist\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, "docs/ODD.md has no ODD 2020 checklist section"
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in m.group(1).splitlines() if line.startswith("| ") and "---" not in line]
    rows = rows[1:]  # the header
    assert rows
    sections = _sections(text)
    for element in ODD_2020_ELEMENTS:
        assert any(r[0].split(" ", 1)[1] == element for r in rows), f"no row for {element}"
    concepts = [r[1].split(":")[0] for r in rows if r[0].endswith("Design concepts")]
    assert sorted(concepts) == sorted(ODD_2020_DESIGN_CONCEPTS)
    for element, question, answer in rows:
        links = re.findall(r"\]\(#([^)]+)\)", answer)
        if not links:
            reason = re.match(r"not applicable: (.+)", answer)
            assert reason and len(reason.group(1).split()) >= 5, (
                f"{element} / {question}: neither a link to a section nor a reason why not")
        for anchor in links:
            assert anchor in sections, f"{question}: link #{anchor} matches no heading"
            assert len(sections[anchor].split()) >= 20, f"section #{anchor} is (nearly) empty"


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end)]


def test_section_2_names_every_declared_villager_and_rule_variable():
    from dataclasses import fields

    from ruralgov.model.state import Rules, Villagers

    section = _section(_text(), "## 2. Entities", "## 3. Process overview")
    missing = [f"{cls.__name__}.{f.name}" for cls in (Villagers, Rules) for f in fields(cls)
               if f"`{f.name}`" not in section]
    assert not missing, f"docs/ODD.md section 2 does not describe {missing}"


def test_section_3_table_is_the_schedule_with_each_submodels_module():
    from ruralgov.model.schedule import SCHEDULE

    section = _section(_text(), "## 3. Process overview", "## 4. Design concepts")
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \| `(\w+)` \|", section, re.M)
    assert [(int(i), name) for i, name, _ in rows] == [
        (i, f.__name__) for i, f in enumerate(SCHEDULE, 1)]
    for (_, name, module), f in zip(rows, SCHEDULE):
        assert f.__module__.rsplit(".", 1)[-1] == module, (name, f.__module__)


def test_every_default_quoted_in_brackets_is_the_registrys():
    """The ODD quotes defaults as `name` [value] in its equations and text (178 places): each
    is the registry's default, so a change of a default cannot leave the prose behind."""
    from ruralgov.model.params import REGISTRY

    stale = []
    for m in re.finditer(r"`([a-z_0-9]+)` \[([^\]]*)\]", _text()):
        name, quoted = m.groups()
        if name not in REGISTRY:
            continue
        default = REGISTRY[name].default
        number = re.match(r"[−-]?[\d ,.]+", quoted)
        if isinstance(default, bool) or number is None:
            ok = quoted.split(":")[0].strip().lower() == str(default).lower()
        else:
            text = number.group(0).replace("−", "-").replace(" ", "").replace(",", "")
            ok = float(text) == float(default)
        if not ok:
            stale.append(f"`{name}` [{quoted}]: the default is {default}")
    assert not stale, "docs/ODD.md quotes stale defaults:\n" + "\n".join(stale)
