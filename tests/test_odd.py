"""docs/ODD.md and the code cannot drift: the parameter table is the registry's, every
submodel of step() has a section, every mechanism switch is described."""

import inspect
import re
from pathlib import Path

from ruralgov.model import RuralGovernanceModel
from ruralgov.params import MECHANISMS, markdown_table

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


def test_every_submodel_of_step_has_a_section_in_schedule_order():
    src = inspect.getsource(RuralGovernanceModel.step)
    submodels = re.findall(r"self\.(\w+)\(\)", src)
    assert len(submodels) == 15
    text = _text()
    positions = []
    for name in submodels:
        m = re.search(rf"^#+ .*\b{name}\b", text, re.M)
        assert m, f"docs/ODD.md has no heading for submodel {name}"
        positions.append(m.start())
    assert positions == sorted(positions), "ODD submodel sections are not in step() order"


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
