"""Expressions in files are data: parsed by the project's own grammar, never evaluated as code.

The attacks of the security review (a calibration measure or a hypothesis's closed form that
reaches Python's globals through ``@name`` or ``pd.…``) are refused with one line, exit 2, and
run nothing; the source holds no ``eval`` of any kind.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ruralgov.io.expression import MAX_DEPTH, MAX_LENGTH, parse
from ruralgov.model.schema import InputError

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("ruralgov")

ATTACKS = [
    "@pd.io.common.os.system('touch pwned')",
    "@Path('pwned').touch()",
    "@logging.os.system('touch pwned')",
    "pd.io.common.os.system('touch pwned')",
    "__import__('os').system('touch pwned')",
    "__import__(os)",
    "open(pwned)",
    "x.__class__",
    "a[0]",
    "lambda: 1",
    "(a for a in b)",
    "a if b else c",
    "a < b",
    "a; b",
    "`a`",
    "a = 1",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_code_is_not_an_expression(text):
    with pytest.raises(InputError, match=r"f\.yaml: field: .*(not allowed|not a function|"
                                         r"unexpected|expected)"):
        parse(text, None, "f.yaml: field")


@pytest.mark.parametrize("text,values,expected", [
    ("a + b * c", {"a": 1, "b": 2, "c": 3}, 7.0),
    ("(a + b) * c", {"a": 1, "b": 2, "c": 3}, 9.0),
    ("a / b - c", {"a": 1, "b": 4, "c": 1}, -0.75),
    ("-a ** 2", {"a": 3}, -9.0),  # as Python: the power binds tighter than the sign
    ("a ** -1", {"a": 4}, 0.25),
    ("2 ** 3 ** 2", {}, 512.0),  # right-associative
    ("max(a, b) - min(a, b)", {"a": 1, "b": 5}, 4.0),
    ("abs(a - b) + sqrt(c) + log(exp(1))", {"a": 1, "b": 5, "c": 9}, 8.0),
    ("1e-1 + .5 + 2.", {}, 2.6),
])
def test_the_grammar_computes_what_it_says(text, values, expected):
    assert parse(text, None, "f").evaluate(values) == pytest.approx(expected)


def test_names_are_checked_and_arrays_evaluated_elementwise():
    e = parse("s / (p + w)", {"s", "p", "w"}, "f")
    assert e.names == {"s", "p", "w"}
    out = e.evaluate({"s": np.array([1.0, 2.0]), "p": np.array([1.0, 0.0]), "w": 0.0})
    np.testing.assert_array_equal(out, [1.0, np.inf])  # a zero divisor: inf, no exception
    with pytest.raises(InputError, match=r"'q' is not a name it may read \(allowed: p, s, w\)"):
        parse("s / q", {"s", "p", "w"}, "f")
    with pytest.raises(InputError, match="did you mean compliance_final"):
        parse("complianc_final", {f"m{i}" for i in range(20)} | {"compliance_final"}, "f")


def test_size_and_depth_are_bounded():
    with pytest.raises(InputError, match=f"at most {MAX_LENGTH}"):
        parse("a+" * 200 + "a", None, "f")
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH}"):
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), None, "f")
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH}"):
        parse("-" * 100 + "a", None, "f")
    assert parse("(" * (MAX_DEPTH - 1) + "a" + ")" * (MAX_DEPTH - 1), None, "f").names == {"a"}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab01.+-*/(),e _@'[]:", max_size=60))
def test_any_text_is_parsed_or_refused_with_one_message(text):
    try:
        e = parse(text, {"a", "b"}, "f")
    except InputError as err:
        assert str(err).startswith("f: ")
    else:
        e.evaluate({"a": 1.5, "b": -2.0})  # evaluates without an exception


def _experiment_with(tmp_path: Path, closed_form: str) -> Path:
    doc = yaml.safe_load((ROOT / "experiments" / "paper" / "r4_reported_inspected.yaml")
                         .read_text(encoding="utf-8"))
    doc["hypothesis"]["tests"][0]["closed_form"] = closed_form
    f = tmp_path / "attack.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return f


@pytest.mark.parametrize("closed_form", ["pd.io.common.os.system('touch pwned')",
                                         "@pd.io.common.os.system('touch pwned')",
                                         "nonsense * 2"])
def test_a_closed_form_that_is_code_is_refused_by_validate(tmp_path, closed_form):
    f = _experiment_with(tmp_path, closed_form)
    res = subprocess.run([str(EXE), "validate", str(f)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert res.returncode == 2, res.stdout
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "hypothesis.tests.0.closed_form" in res.stderr
    assert not (tmp_path / "pwned").exists()


def test_the_shipped_closed_forms_are_read_by_the_grammar(tmp_path):
    from ruralgov.study.experiment import load_experiment

    exp = load_experiment("paper/r4_reported_inspected")
    forms = [t.closed_form for t in exp.hypothesis.tests if t.closed_form]
    assert forms and all(parse(f, None, "f").names for f in forms)


def _calls(tree: ast.AST) -> list[str]:
    """Every call of eval/exec/compile, pd.eval, and .eval()/.query() on anything."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Name) and fn.id in ("eval", "exec", "compile"):
                found.append(fn.id)
            elif isinstance(fn, ast.Attribute) and fn.attr in ("eval", "query"):
                found.append(ast.unparse(fn))
    return found


def test_the_source_evaluates_no_text_as_code():
    offenders = {}
    for f in sorted((ROOT / "src").rglob("*.py")):
        calls = _calls(ast.parse(f.read_text(encoding="utf-8")))
        if calls:
            offenders[str(f.relative_to(ROOT))] = calls
    assert offenders == {}
    # the scan sees what it looks for
    assert sorted(_calls(ast.parse("df.eval(x); pd.eval(y); df.query(z); eval(w)"))) == [
        "df.eval", "df.query", "eval", "pd.eval"]
