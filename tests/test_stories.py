"""Scenario stories that hold: every claim of every scenario's ``watch`` list is checked over
10 seeds (ruralgov.study.stories), the checker can say no, and a malformed claim is one clear
message naming the file and the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ruralgov.io.scenario import list_scenarios, load_scenario
from ruralgov.model.schema import InputError
from ruralgov.study import stories


@pytest.fixture(scope="module")
def results():
    return stories.check_stories()


def test_every_scenario_but_the_baseline_says_what_to_watch():
    for sc in list_scenarios():
        if sc.name != "baseline":
            assert sc.watch, f"{sc.name}: the story has no watch claims"
            assert "watch" in sc.story.lower(), sc.name
            assert "观察" in sc.story_zh, sc.name  # 请观察: the Chinese story says it too


def test_every_scenario_has_a_chinese_title_and_story():
    for sc in list_scenarios():
        title, story = sc.text("zh")
        assert title == sc.title_zh and story == sc.story_zh, sc.name
        assert re.search(r"[\u4e00-\u9fff]{2,}", title), sc.name
        assert len(re.findall(r"[\u4e00-\u9fff]", story)) > 40, sc.name
        assert " " not in story.strip(), sc.name  # lines joined without spaces
        assert not re.search(r"[A-Za-z]{4,}", story), sc.name


def test_every_story_claim_holds_over_ten_seeds(results):
    failed = [f"{r.scenario}: {r.claim} ({r.agree} of {r.seeds})" for r in results
              if not r.holds]
    assert not failed, "stories claim what the model does not do:\n" + "\n".join(failed)
    assert all(r.seeds == 10 for r in results)


def test_the_published_table_is_the_current_models(results):
    """docs/stories.md is regenerated (`make stories`) whenever results change."""
    doc = Path(__file__).resolve().parents[1] / "docs" / "stories.md"
    assert doc.read_text() == stories.document(stories.markdown(results), 10), (
        "docs/stories.md is stale: run `make stories`")


def _write(tmp_path: Path, watch: str, steps: int = 60) -> Path:
    f = tmp_path / "claim.yaml"
    f.write_text(f"title: t\nstory: s\nsteps: {steps}\nparameters:\n  n_departments: 8\n"
                 f"  coordination: 0.0\nwatch:\n{watch}")
    return f


def test_a_false_claim_is_reported_as_not_holding(tmp_path):
    f = _write(tmp_path, "  - {measure: compliance, expect: higher, than: baseline, "
                         "steps: [1, 12]}\n")
    (r,) = stories.check_story(load_scenario(f), seeds=range(4), agree=3)
    assert not r.holds and r.agree == 0 and r.difference < 0


def test_the_command_exits_1_when_a_claim_fails(tmp_path, capsys):
    from ruralgov.app.cli import main

    f = _write(tmp_path, "  - {measure: conflict_exposure, expect: lower, than: baseline, "
                         "steps: [1, 5]}\n", steps=5)
    assert main(["stories", str(f), "--seeds", "3"]) == 1
    assert "does not hold" in capsys.readouterr().err


@pytest.mark.parametrize("watch, needle", [
    ("  - {measure: complience, expect: lower, than: baseline, steps: [1, 12]}\n",
     "watch[0].measure: 'complience' is not a measure of the series (did you mean compliance"),
    ("  - {measure: compliance, expect: lower, than: nowhere, steps: [1, 12]}\n",
     "watch[0].than: no scenario named 'nowhere'"),
    ("  - {measure: compliance, expect: lower, than: baseline, steps: [1, 90]}\n",
     "the claim reaches step 90, but the scenario runs 60 steps"),
    ("  - {measure: compliance, expect: lower, steps: [1, 12]}\n", "give than"),
    ("  - {measure: compliance, expect: rises, than: baseline, steps: [1, 12]}\n",
     "give from"),
    ("  - {measure: compliance, expect: lower, than: baseline, steps: [12, 1]}\n",
     "1 <= first <= last"),
    ("  - {measure: compliance, expect: up, than: baseline, steps: [1, 12]}\n", "expect"),
    ("  - {measure: compliance, expect: lower, than: baseline, steps: [1, 12], x: 1}\n", "x"),
])
def test_a_malformed_claim_is_one_clear_message(tmp_path, watch, needle):
    f = _write(tmp_path, watch)
    with pytest.raises(InputError) as err:
        load_scenario(f)
    msg = str(err.value)
    assert str(f) in msg and needle in msg, msg


def test_a_chinese_block_without_its_story_is_one_clear_message(tmp_path):
    f = tmp_path / "zh.yaml"
    f.write_text("title: t\nstory: s\nzh:\n  title: 标题\nparameters: {}\n")
    with pytest.raises(InputError) as err:
        load_scenario(f)
    assert str(f) in str(err.value) and "zh.story" in str(err.value), str(err.value)
