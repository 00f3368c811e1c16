"""The bundled Chinese font: figures and pages in Chinese on any machine.

``ruralgov/fonts/`` holds "RuralGov Sans SC", a subset of Noto Sans SC 2.004 (Adobe and
Google; SIL Open Font License 1.1, whose text, ``OFL.txt``, ships beside it): the 3,755 hanzi
of GB2312 level 1, ASCII, CJK and full-width punctuation and every character the project's
Chinese text uses, at weight 400, as TrueType (for matplotlib) and WOFF2 (for browsers).
``tools/build_font.py`` makes it from its source, and says how; the project's code is MIT,
the font stays OFL.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FAMILY", "TTF", "WOFF2", "LICENSE", "register", "css_face"]

FAMILY = "RuralGov Sans SC"
"""The bundled font's family name."""
FOLDER = Path(__file__).resolve().parents[1] / "fonts"
TTF = FOLDER / "RuralGovSansSC-Regular.ttf"
"""The font as TrueType (matplotlib)."""
WOFF2 = FOLDER / "RuralGovSansSC-Regular.woff2"
"""The font as WOFF2 (browsers)."""
LICENSE = FOLDER / "OFL.txt"
"""The font's licence, the SIL Open Font License 1.1."""


def register() -> str | None:
    """Make the bundled font known to matplotlib; its family name, or ``None`` if the
    package was installed without it."""
    if not TTF.is_file():
        return None
    from matplotlib import font_manager

    if not any(f.fname == str(TTF) for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(TTF))
    return FAMILY


def css_face(url: str) -> str:
    """A CSS ``@font-face`` rule for the bundled font served at ``url``."""
    return (f'@font-face{{font-family:"{FAMILY}";src:url("{url}") format("woff2");'
            "font-weight:400;font-style:normal;font-display:swap}")
