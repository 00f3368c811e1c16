"""Figures of a run's series (downstream of the model: the model never imports this)."""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = ["plot_series", "cjk_font", "cjk_rc"]


#: Families with Chinese glyphs, by the words in their names and in their file names.
_CJK_NAMES = ("WenQuanYi", "Noto Sans CJK", "Noto Serif CJK", "Source Han", "SimHei",
              "Microsoft YaHei", "PingFang", "Heiti", "Droid Sans Fallback")
_CJK_FILES = ("wqy", "notosanscjk", "notoserifcjk", "sourcehan", "simhei", "msyh", "pingfang",
              "droidsansfallback")


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of a font with Chinese glyphs: the bundled one (`ruralgov.io.fonts`), else
    one the machine has, else ``None``.

    Matplotlib knows the fonts it found when it first built its font cache; a font installed
    after that (e.g. ``apt install fonts-wqy-microhei``) is looked for among the system's font
    files and registered.
    """
    from matplotlib import font_manager

    from ruralgov.io.fonts import register

    if (bundled := register()) is not None:
        return bundled

    for f in font_manager.fontManager.ttflist:
        if any(k in f.name for k in _CJK_NAMES):
            return f.name
    for path in sorted(font_manager.findSystemFonts()):
        if any(k in Path(path).name.lower().replace("-", "") for k in _CJK_FILES):
            try:
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError, ValueError):  # an unreadable font file
                continue
    return None


def cjk_rc() -> dict:
    """rcParams that put the Chinese font first, where there is one (else none), with DejaVu
    Sans after it: matplotlib falls back glyph by glyph along ``font.family`` (not along
    ``font.sans-serif``), so a character the Chinese font lacks is drawn by the next."""
    font = cjk_font()
    return {"font.family": [font, "DejaVu Sans"]} if font else {}


def _t(text: str) -> str:
    """Keep Chinese terms where a CJK font exists; drop them (and empty brackets) elsewhere."""
    if cjk_font():
        return text
    import re

    text = re.sub(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]+", "", text)
    text = re.sub(r"\(\s*[、，,\s]*\)", "", text)
    return " ".join(text.split())


def _shade_campaign(ax, series: pd.DataFrame) -> None:
    if "campaign_active" in series and series["campaign_active"].any():
        steps = series["step"][series["campaign_active"].astype(bool)]
        ax.axvspan(steps.min() - 0.5, steps.max() + 0.5, color="tab:orange", alpha=0.12,
                   label="campaign")


def plot_series(series: pd.DataFrame, title: str = "", path: str | Path | None = None):
    """Four panels: compliance, legitimacy and grievance, petitions, protest."""
    with plt.rc_context(cjk_rc()):
        return _plot_series(series, title, path)


def _plot_series(series: pd.DataFrame, title: str, path: str | Path | None):
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    s = series
    ax = axes[0, 0]
    ax.plot(s.step, s.compliance, label="true compliance", color="tab:green")
    ax.plot(s.step, s.compliance_reported, label="reported by townships", color="tab:olive",
            ls="--")
    ax.plot(s.step, s.compliance_inspected, label="inspected by county", color="tab:gray",
            lw=0.8, alpha=0.8)
    ax.plot(s.step, s.voluntary_share, label="voluntary share of compliers", color="tab:blue",
            ls=":")
    if "compliance_campaign" in s:
        ax.plot(s.step, s.compliance_campaign, label="campaign rule", color="tab:orange")
    _shade_campaign(ax, s)
    ax.set_ylim(0, 1.02)
    ax.set_title(_t("Compliance 制度遵从"))
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[0, 1]
    ax.plot(s.step, s.legitimacy_mean, label="legitimacy (mean)", color="tab:blue")
    ax.fill_between(s.step, s.legitimacy_mean - s.legitimacy_sd,
                    s.legitimacy_mean + s.legitimacy_sd, color="tab:blue", alpha=0.15)
    ax.plot(s.step, s.grievance_mean, label="grievance (mean)", color="tab:red")
    ax.plot(s.step, s.substitution_index, label="substitution index", color="tab:brown",
            lw=0.8, alpha=0.8)
    _shade_campaign(ax, s)
    ax.set_ylim(0, 1.02)
    ax.set_title("Legitimacy, grievance, substitution")
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[1, 0]
    ax.plot(s.step, s.petitions_individual, label="individual petitions", color="tab:purple")
    ax.plot(s.step, s.petitions_collective, label="collective petitions", color="tab:pink")
    ax.plot(s.step, s.petitions_escalated, label="escalated to county", color="tab:red")
    ax.plot(s.step, s.petition_backlog, label="township backlog", color="k", lw=0.8, ls="--")
    _shade_campaign(ax, s)
    ax.set_title(_t("Petitions 上访 (per step)"))
    ax.set_xlabel("step")
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[1, 1]
    ax.plot(s.step, s.protesters, label="protesters", color="tab:red")
    ax.plot(s.step, s.detained, label="detained", color="k", lw=0.8)
    ax2 = ax.twinx()
    ax2.bar(s.step, s.protest_events, color="tab:orange", alpha=0.35, label="protest events")
    ax2.set_ylabel("events", fontsize=8)
    _shade_campaign(ax, s)
    ax.set_title("Protest (collective incidents)")
    ax.set_xlabel("step")
    ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(_t(title))
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
