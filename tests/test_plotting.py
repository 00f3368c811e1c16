"""Figures with Chinese text: the bundled Chinese font is used (without it, a Chinese font on
the machine, even one installed after matplotlib built its font cache), so the figures show
the Chinese terms instead of empty boxes; without any they drop the Chinese terms."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from matplotlib import font_manager

from ruralgov.analysis.plotting import _CJK_FILES, _t, cjk_font, plot_series
from ruralgov.app.dashboard.session import build
from ruralgov.app.dashboard.views import figure_png, series_figure
from ruralgov.io import fonts

from .conftest import run_model

SYSTEM_HAS_CJK = any(any(k in Path(p).name.lower().replace("-", "") for k in _CJK_FILES)
                     for p in font_manager.findSystemFonts())


def _missing_glyphs(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_the_bundled_chinese_font_is_found_and_used():
    assert cjk_font() == fonts.FAMILY
    assert "制度遵从" in _t("Compliance 制度遵从")
    series = run_model(steps=5).series()

    def draw():
        fig = plot_series(series, title="基准县 (Baseline county)")
        fig.canvas.draw()

    assert _missing_glyphs(draw) == []
    model = build("baseline", seed=1)
    model.step()
    assert _missing_glyphs(lambda: figure_png(series_figure({"基准县": model}, lang="zh"))) == []


@pytest.mark.skipif(not SYSTEM_HAS_CJK, reason="no Chinese font on this machine "
                    "(.ci/run installs fonts-wqy-microhei)")
def test_without_the_bundled_font_a_system_font_is_found(monkeypatch):
    import ruralgov.analysis.plotting as plotting
    import ruralgov.io.fonts

    monkeypatch.setattr(ruralgov.io.fonts, "register", lambda: None)
    plotting.cjk_font.cache_clear()
    try:
        found = plotting.cjk_font()
        assert found is not None and found != fonts.FAMILY
    finally:
        plotting.cjk_font.cache_clear()


def test_without_a_chinese_font_the_chinese_terms_are_dropped(monkeypatch):
    import ruralgov.analysis.plotting as plotting

    monkeypatch.setattr(plotting, "cjk_font", lambda: None)
    assert plotting._t("Compliance 制度遵从") == "Compliance"
    assert plotting._t("Petitions 上访 (per step)") == "Petitions (per step)"
