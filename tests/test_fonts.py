"""The bundled Chinese font (issue 32, item 2): free (OFL), renamed, found by matplotlib
without any system font, served to the room's phones, and holding every character the
project's Chinese text uses."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pytest

from ruralgov.io import fonts

ROOT = Path(__file__).resolve().parents[1]


def _build_font():
    spec = importlib.util.spec_from_file_location("build_font", ROOT / "tools" / "build_font.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cmap() -> set[int]:
    from fontTools.ttLib import TTFont

    return set(TTFont(fonts.TTF).getBestCmap())


def test_the_font_holds_every_character_of_the_projects_chinese_text():
    build = _build_font()
    used = build.used_characters(ROOT)
    assert len(used) > 300  # the scan finds the Chinese text (labels, guides, scenarios)
    missing = sorted(chr(c) for c in used - _cmap())
    assert not missing, (f"characters outside the bundled font: {''.join(missing)}; run "
                         "python tools/build_font.py (see its docstring)")


def test_the_font_holds_gb2312_level_1_and_ascii():
    cmap = _cmap()
    level1 = {ord(bytes([h, lo]).decode("gb2312")) for h in range(0xB0, 0xD8)
              for lo in range(0xA1, 0xFF) if not (h == 0xD7 and lo > 0xF9)}
    assert len(level1) == 3755 and level1 <= cmap
    assert set(range(0x20, 0x7F)) <= cmap


def test_the_font_is_free_renamed_and_its_licence_ships_beside_it():
    from fontTools.ttLib import TTFont

    licence = fonts.LICENSE.read_text(encoding="utf-8")
    assert "SIL Open Font License" in licence and "Reserved Font Name 'Source'" in licence
    name = TTFont(fonts.TTF)["name"]
    assert name.getDebugName(1) == fonts.FAMILY
    for rec in name.names:  # the reserved name is in no name of the font, only its notices
        if rec.nameID not in (0, 7):
            assert "Source" not in rec.toUnicode(), (rec.nameID, rec.toUnicode())
    assert fonts.WOFF2.stat().st_size < fonts.TTF.stat().st_size < 2_000_000


def test_matplotlib_draws_chinese_with_the_bundled_font_and_no_missing_glyph(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    from ruralgov.analysis.plotting import cjk_font, cjk_rc

    assert cjk_font() == fonts.FAMILY
    found = font_manager.findfont(font_manager.FontProperties(family=fonts.FAMILY),
                                  fallback_to_default=False)
    assert Path(found) == fonts.TTF  # not a system font that happens to be there
    with warnings.catch_warnings():
        # matplotlib warns of each glyph a font lacks
        warnings.filterwarnings("error", message=".*missing from font")
        with plt.rc_context(cjk_rc()):
            fig, ax = plt.subplots()
            ax.set_title("上访与集体上访（每千人每年）：制度权威、碎片化、回应性")
            ax.set_xlabel("月份 step −1, ε ≤ 0.1, ①")  # minus, Greek, a circled number
            ax.set_ylabel("σ ∂ ∮")  # outside the subset: drawn by DejaVu Sans after it
            fig.savefig(tmp_path / "zh.png")
            plt.close(fig)


def test_the_woff2_is_the_truetype_font():
    pytest.importorskip("brotli")
    from fontTools.ttLib import TTFont

    a, b = TTFont(fonts.TTF), TTFont(fonts.WOFF2)
    assert a.getBestCmap() == b.getBestCmap() and a.getGlyphOrder() == b.getGlyphOrder()


def test_the_room_serves_the_font_and_its_pages_use_it():
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from ruralgov.app.room import Room
    from ruralgov.app.room_server import create_app

    client = TestClient(create_app(Room(seed=1)))
    res = client.get("/font.woff2")
    assert res.status_code == 200 and res.headers["content-type"] == "font/woff2"
    assert res.content[:4] == b"wOF2" and len(res.content) == fonts.WOFF2.stat().st_size
    page = client.get("/").text
    assert 'url("/font.woff2")' in page and f'font-family:"{fonts.FAMILY}"' in page
