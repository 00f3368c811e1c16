"""The training room's web API and pages (ruralgov.app.room_server, issue 32), through
Starlette's test client: three phones and a trainer through two rounds and a debrief, the
session replayed from its file; what is refused, and in which language pages come."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

pytest.importorskip("httpx")
from starlette.testclient import TestClient  # noqa: E402

from ruralgov.app.room import Room  # noqa: E402
from ruralgov.app.room_server import MAX_BODY, create_app  # noqa: E402
from ruralgov.io.scenario import load_scenario  # noqa: E402
from ruralgov.study.runner import run_scenario  # noqa: E402

SMALL = {"n_villagers": 1200, "n_townships": 3, "villages_per_township": 2}


@pytest.fixture
def room():
    return Room("baseline", seed=3, round_months=4, rounds=2, overrides=SMALL)


@pytest.fixture
def client(room):
    return TestClient(create_app(room))


def _join(client, room, name):
    r = client.post("/api/join", json={"code": room.code, "name": name})
    assert r.status_code == 200, r.text
    return {"X-Token": r.json()["token"]}


def test_three_phones_and_a_trainer_play_two_rounds_and_replay(client, room, tmp_path):
    phones = [_join(client, room, n) for n in ("王", "李", "张")]
    key = {"X-Key": room.trainer_key}
    assert client.post("/api/trainer", json={"action": "start"}, headers=key).json()[
        "state"] == "choosing"
    for k, h in enumerate(phones):
        r = client.post("/api/submit", json={"levers": {"suppression": 0.2 * k}}, headers=h)
        assert r.status_code == 200, r.text
    view = client.get("/api/view", headers=phones[0]).json()  # the barrier ran the round
    assert view["round"] == 1 and view["step"] == 4 and view["township"] == 0
    assert "true_compliance" not in view["own"][0]
    client.post("/api/trainer", json={"action": "trigger", "event": "scandal"}, headers=key)
    client.post("/api/trainer", json={"action": "reveal", "view": "truth", "on": True},
                headers=key)
    client.post("/api/submit", json={"levers": {"responsiveness": 0.9}}, headers=phones[1])
    console = client.post("/api/trainer", json={"action": "advance"}, headers=key).json()
    assert console["state"] == "ended" and console["round"] == 2
    assert "true_compliance" in client.get("/api/view", headers=phones[1]).json()["own"][1]
    replay = client.get("/api/replay.yaml", headers=key)
    assert replay.headers["content-disposition"].endswith('"ruralgov-room-replay.yaml"')
    f = tmp_path / "session.yaml"
    f.write_text(replay.text, encoding="utf-8")
    pd.testing.assert_frame_equal(run_scenario(load_scenario(f)).series, room.model.series())
    page = client.get(f"/debrief?key={room.trainer_key}")
    assert page.status_code == 200 and "讨论题" in page.text and "王" in page.text
    # a language switch on the debrief too, keeping the trainer's key
    switch = re.search(r'<a class="lang" href="\?([^"]+)">English</a>', page.text)
    assert switch and f"key={room.trainer_key}" in switch[1] and "lang=en" in switch[1]
    english = client.get("/debrief?" + html.unescape(switch[1]))
    assert english.status_code == 200 and "Questions" in english.text


def test_what_is_refused(client, room):
    bad = client.post("/api/join", json={"code": "NOPE", "name": "x"})
    assert bad.status_code == 400 and "not this room's code" in bad.json()["error"]
    assert client.post("/api/join", content=b"{not json").status_code == 400
    assert client.post("/api/join", content=b"[1]").json()["error"].startswith("request body")
    big = client.post("/api/join", content=b"{" + b" " * MAX_BODY + b"}")
    assert big.status_code == 413
    assert client.get("/api/view", headers={"X-Token": "forged"}).status_code == 403
    for path in ("/api/console", "/api/public", "/api/replay.yaml", "/api/debrief"):
        assert client.get(path).status_code == 403, path
    assert client.get("/api/console", headers={"X-Key": "guess"}).status_code == 403
    assert client.get("/debrief").status_code == 403
    key = {"X-Key": room.trainer_key}
    r = client.post("/api/trainer", json={"action": "shutdown"}, headers=key)
    assert r.status_code == 400 and "allowed start, pause" in r.json()["error"]
    h = _join(client, room, "A")
    r = client.post("/api/submit", json={"levers": {"suppression": 0.5}}, headers=h)
    assert r.status_code == 400 and "no round is open" in r.json()["error"]
    client.post("/api/trainer", json={"action": "start"}, headers=key)
    r = client.post("/api/submit", json={"levers": {"enforcement": 0.9}}, headers=h)
    assert r.status_code == 400 and "not a township head's" in r.json()["error"]
    r = client.post("/api/trainer", json={"action": "broadcast", "text": ""}, headers=key)
    assert r.status_code == 400


def test_pages_are_chinese_unless_the_browser_asks_for_english(client, room):
    zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).text
    assert 'lang="zh-CN"' in zh and "乡村治理培训室" in zh and 'href="?lang=en"' in zh
    assert 'lang="zh-CN"' in client.get("/play").text  # no preference: Chinese
    en = client.get("/play", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"}).text
    assert 'lang="en"' in en and "Training room" in en and 'href="?lang=zh"' in en
    assert 'lang="en"' in client.get("/projector?lang=en").text
    assert 'lang="zh-CN"' in client.get("/console?lang=zh",
                                        headers={"Accept-Language": "en"}).text
    qr = client.get("/qr.svg")
    assert qr.headers["content-type"].startswith("image/svg+xml") and b"<svg" in qr.content
