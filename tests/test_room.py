"""The training room's rules without a browser (ruralgov.app.room, issue 32): joining and
rejoining, the barrier, the trainer's controls, what participants may see, and the session
replayed from its scenario file value for value."""

from __future__ import annotations

import pandas as pd
import pytest

from ruralgov.app import room as R
from ruralgov.app.room import Room
from ruralgov.io.scenario import load_scenario
from ruralgov.model.params import TOWNSHIP_LEVERS
from ruralgov.model.schema import InputError
from ruralgov.study.runner import run_scenario

SMALL = {"n_villagers": 1200, "n_townships": 3, "villages_per_township": 2}


def _room(**kw) -> Room:
    return Room("baseline", seed=5, round_months=3, rounds=kw.pop("rounds", 3),
                overrides={**SMALL, **kw.pop("overrides", {})}, **kw)


def test_trainees_join_by_code_and_head_the_township_with_fewest_heads():
    room = _room()
    heads = [room.join(room.code.lower(), f"干部{i}") for i in range(5)]
    assert [p.township for p in heads] == [0, 1, 2, 0, 1]
    assert room.participant(heads[3].token) is heads[3]  # a dropped phone rejoins
    with pytest.raises(InputError, match="join: code: not this room's code"):
        room.join("WRONG1", "张三")
    with pytest.raises(InputError, match="join: name: '干部0' is taken"):
        room.join(room.code, "干部0")
    with pytest.raises(InputError, match="join: name: allowed 1 to 40 characters"):
        room.join(room.code, "\x00\u200b ")
    with pytest.raises(InputError, match="join: name: allowed 1 to 40"):
        room.join(room.code, "x" * 41)
    assert room.join(room.code, "李\x07四").name == "李四"  # control characters dropped
    with pytest.raises(InputError, match="token: not a participant"):
        room.participant("forged")


def test_a_round_waits_for_every_head_then_runs_their_choices():
    room = _room()
    a, b = room.join(room.code, "A"), room.join(room.code, "B")
    room.start()
    room.submit(a.token, {"suppression": 0.9})
    assert room.waiting_for() == ["B"]
    assert room.advance() is False and room.model.steps == 0
    room.submit(b.token, {"responsiveness": 0.2, "misreporting": 0.0})
    assert room.advance() is True
    assert room.model.steps == 3 and room.round == 1 and room.state == "choosing"
    ivs = {(iv.township, iv.step): dict(iv.settings) for iv in room.model.interventions
           if iv.township is not None}
    assert ivs == {(0, 1): {"suppression": 0.9},
                   (1, 1): {"responsiveness": 0.2, "misreporting": 0.0}}
    assert room.model.townships[0].setting("suppression") == 0.9
    assert room.model.townships[2].levers == {}  # no head: the county's levers
    assert room.waiting_for() == ["A", "B"]  # a new round, nobody has submitted yet
    # a choice equal to the township's lever now is no intervention
    room.submit(a.token, {"suppression": 0.9})
    room.submit(b.token, {"responsiveness": 0.2})
    room.advance()
    assert len([iv for iv in room.model.interventions if iv.township is not None]) == 2


def test_the_trainer_advances_removes_pauses_and_the_timer_runs_out(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(R.time, "monotonic", lambda: clock[0])
    room = _room(round_seconds=60)
    a, b = room.join(room.code, "A"), room.join(room.code, "B")
    with pytest.raises(InputError, match="submit: no round is open"):
        room.submit(a.token, {"suppression": 0.5})
    room.start()
    room.submit(a.token, {"suppression": 0.5})
    assert room.advance() is False
    room.remove("B")  # the barrier stops waiting for them
    with pytest.raises(InputError, match="token: the trainer removed"):
        room.view(b.token)
    assert room.advance() is True and room.round == 1
    clock[0] += 30
    room.pause()
    with pytest.raises(InputError, match="no round is open .*paused"):
        room.advance(force=True)
    clock[0] += 500  # a pause stops the timer
    room.pause(False)
    assert room.seconds_left() == pytest.approx(30)
    assert room.advance() is False
    clock[0] += 31
    assert room.advance() is True and room.round == 2  # the timer ran out
    assert room.advance(force=True) is True  # the trainer, without anyone's choice
    assert room.state == "ended" and room.model.steps == 9
    with pytest.raises(InputError, match="join: the session has ended"):
        room.join(room.code, "C")
    assert [e["by"] for e in room.log if e["kind"] == "round"] == ["barrier", "timer", "trainer"]


def test_bad_choices_are_refused_with_the_field():
    room = _room()
    a = room.join(room.code, "A")
    room.start()
    with pytest.raises(InputError, match="levers: coordination is not a township head's; "
                       "allowed: " + ", ".join(TOWNSHIP_LEVERS)):
        room.submit(a.token, {"coordination": 0.5})
    with pytest.raises(InputError, match="submit: levers.suppression"):
        room.submit(a.token, {"suppression": 1.5})
    with pytest.raises(InputError, match="submit: levers.suppression"):
        room.submit(a.token, {"suppression": "lots"})
    with pytest.raises(InputError, match="submit: levers: allowed a non-empty mapping"):
        room.submit(a.token, [])
    assert room.waiting_for() == ["A"]


def test_participants_see_their_reports_and_the_truth_only_when_revealed():
    room = _room()
    a, b = room.join(room.code, "A"), room.join(room.code, "B")
    room.start()
    room.advance(force=True)
    seen = room.view(a.token)
    assert seen["township"] == 0 and len(seen["own"]) == 1
    assert "reported_compliance" in seen["own"][0]
    assert "true_compliance" not in seen["own"][0] and "others" not in seen
    room.reveal("truth", True)
    room.reveal("others", True)
    seen = room.view(b.token)
    assert "true_compliance" in seen["own"][0]
    assert [rows[0]["township"] for rows in seen["others"]] == [0, 1, 2]
    room.broadcast("  讨论：为什么上报的遵从率高于实际？ ")
    assert room.view(a.token)["messages"] == ["讨论：为什么上报的遵从率高于实际？"]
    with pytest.raises(InputError, match="reveal: view: allowed truth, others"):
        room.reveal("everything", True)


def test_events_the_trainer_triggers_act_from_the_next_month():
    room = _room(rounds=4)
    room.join(room.code, "A")
    room.start()
    room.advance(force=True)
    room.trigger("scandal")
    room.trigger("shock")
    room.advance(force=True)
    room.trigger("campaign")
    room.advance(force=True)
    s = room.model.series().set_index("step")
    assert not s.scandal_active[:3].any() and s.scandal_active[4:6].all()
    assert s.hardship_shocks[4] > 3 * max(s.hardship_shocks[[3, 5, 6]].max(), 1)
    assert not s.campaign_active[:6].any() and s.campaign_active[7:9].all()
    with pytest.raises(InputError, match="trigger: event: allowed scandal, campaign, shock"):
        room.trigger("flood")
    plain = _room(campaign_ready=False)
    with pytest.raises(InputError, match="built without a campaign rule"):
        plain.trigger("campaign")


def test_the_session_replays_from_its_file_value_for_value(tmp_path):
    room = _room()
    a, b, c = (room.join(room.code, n) for n in "ABC")
    room.start()
    room.submit(a.token, {"suppression": 0.7, "discretion": 0.9})
    room.submit(b.token, {"responsiveness": 0.9})
    room.submit(c.token, {"misreporting": 0.1})
    room.advance()
    room.trigger("scandal")
    room.submit(a.token, {"suppression": 0.1})
    room.advance(force=True)
    f = tmp_path / "session.yaml"
    f.write_text(room.replay_yaml(), encoding="utf-8")
    sc = load_scenario(f)
    assert sc.seed == 5 and sc.steps == 6
    pd.testing.assert_frame_equal(run_scenario(sc).series, room.model.series())
    debrief = room.debrief()
    assert debrief["heads"] == {"0": ["A"], "1": ["B"], "2": ["C"]}
    assert [o["round"] for o in debrief["outcomes"]] == [1, 2]
    assert debrief["outcomes"][0]["townships"][0]["levers"]["suppression"] == 0.7
    assert debrief["reporting_gap_mean"] > 0
