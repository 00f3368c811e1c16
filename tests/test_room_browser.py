"""The training room in Chromium (issue 32): a trainer and three trainees, each in their own
browser (their own storage), through two rounds and a debrief; the session's replay file run
by the command line gives the numbers the room showed, value for value."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port, rendering_fonts


@pytest.fixture(scope="module")
def room_server():
    port = free_port()
    exe = Path(sys.executable).with_name("ruralgov")
    proc = subprocess.Popen(
        [str(exe), "room", "--port", str(port), "--rounds", "2", "--months", "3", "--seed", "4",
         "--set", "n_villagers=1500", "--set", "n_townships=3",
         "--set", "villages_per_township=2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        code = re.search(r"code (\w+)", lines[0]).group(1)
        key = re.search(r"console .*#(\S+)", lines[3]).group(1)
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("".join(lines) + proc.stdout.read()) from None
                time.sleep(0.25)
        yield url, code, key
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _api(url, path, key):
    req = urllib.request.Request(url + path, headers={"X-Key": key})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def test_a_room_of_three_through_two_rounds_and_a_debrief(browser, room_server, tmp_path):
    url, code, key = room_server
    trainer = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    trainer.goto(f"{url}/console?lang=zh#{key}")
    phones = []
    for name in ("王乡长", "李乡长", "张乡长"):
        page = browser.new_context(viewport={"width": 390, "height": 844},
                                   locale="zh-CN").new_page()
        page.goto(f"{url}/?code={code}")
        page.fill("#name", name)
        page.click("#go")
        page.wait_for_url("**/play**")
        phones.append(page)
    trainer.wait_for_selector("text=张乡长")
    trainer.click("text=开始")
    for k, page in enumerate(phones):
        page.wait_for_selector("#send:not([disabled])")
        page.locator("#l-suppression").fill(str(0.3 * k))
        assert page.locator("#o-suppression").text_content() == f"{0.3 * k:.2f}"
        page.click("#send")
    for page in phones:  # the barrier ran the round: every phone shows its first round
        page.wait_for_selector("#own table tr:nth-child(2)")
    assert "乡镇 1" in phones[0].locator("#head").text_content()
    # the Chinese drawn by the bundled font the room serves (Chromium's account), on a phone
    # and on the trainer's console
    assert rendering_fonts(phones[0], "#head") == {"RuralGov Sans SC"}
    assert "RuralGov Sans SC" in rendering_fonts(trainer, "h1")
    # a dropped phone comes back as the same head: reloaded, or opened at the join page
    phones[1].reload()
    phones[1].wait_for_selector("#own table tr:nth-child(2)")
    assert "李乡长 · 乡镇 2" in phones[1].locator("#head").text_content()
    phones[2].goto(f"{url}/")
    phones[2].wait_for_url("**/play**")
    phones[2].wait_for_selector("#own table tr:nth-child(2)")
    assert "张乡长 · 乡镇 3" in phones[2].locator("#head").text_content()
    trainer.click("text=显示实际情况")
    trainer.click("text=立即推进本轮")
    phones[2].wait_for_selector("#own table tr:nth-child(3)")
    assert "实际遵从率" in phones[2].locator("#own").text_content()
    # the trainer switches the console to English: the key (in the fragment) is kept
    trainer.click("a.lang")
    trainer.wait_for_url("**lang=en**")
    assert trainer.url.endswith("#" + key)
    trainer.wait_for_selector("text=王乡长")  # (the console's API calls still carry the key)
    debrief = browser.new_page()
    debrief.goto(f"{url}/debrief?lang=zh&key={key}")
    text = debrief.locator("body").text_content()
    assert "讨论题" in text and "王乡长" in text and "劝返压访 0.6" in text
    # the replay, run by the command line, is the session value for value
    replay = tmp_path / "session.yaml"
    replay.write_bytes(_api(url, "/api/replay.yaml", key))
    shown = json.loads(_api(url, "/api/debrief", key))
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("ruralgov")
    subprocess.run([str(exe), "run", str(replay), "--out", str(out), "--quiet"], check=True,
                   timeout=300)
    import pandas as pd

    s = pd.read_parquet(out / "series.parquet")
    for o in shown["outcomes"]:
        first, last = o["steps"]
        window = s[(s.step >= first) & (s.step <= last)]
        assert window.compliance.mean() == o["county"]["compliance"]
        assert int(window.petitions_escalated.sum()) == o["county"]["petitions_escalated"]


def test_the_room_renders_chinese_on_a_machine_without_chinese_fonts(bare_browser, room_server):
    """A phone without any Chinese system font: the join page and its Chinese drawn by the
    bundled font the room serves (screenshot in test-artifacts/room/)."""
    url, code, _ = room_server
    page = bare_browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(f"{url}/?code={code}")
    page.wait_for_function("() => document.fonts.check('16px \"RuralGov Sans SC\"', '乡镇')",
                           timeout=60_000)
    assert rendering_fonts(page, "h1") == {"RuralGov Sans SC"}
    folder = Path(__file__).resolve().parents[1] / "test-artifacts" / "room"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "join-no-system-chinese-font.png"), full_page=True)
    page.close()
