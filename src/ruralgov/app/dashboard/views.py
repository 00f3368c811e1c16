"""The dashboard's pictures, fast enough to play: each view is one matplotlib figure, built
once per run, whose data are updated each step instead of being drawn anew.

What changes every step (the lines of the series, the villagers' colours, the bars of the
legitimacy histogram) is drawn *animated* on a cached background — axes, ticks, titles and
legends, drawn only when the axes' limits or the marks of interventions change (limits grow in
steps of 1-2-5, so rarely) — and the frame is encoded as PNG with fast compression. The network
is encoded again only when a villager's colour changed. ``series_figure`` and its siblings draw
a view's whole figure for the downloads: one drawing code for the page and the files.

* [`SeriesView`][ruralgov.app.dashboard.views.SeriesView] — compliance and evasion, petitions,
  protesters and disputes settled by elders over time; two line styles in compare mode;
* [`NetworkView`][ruralgov.app.dashboard.views.NetworkView] — the villagers' network, coloured by
  the share of their rules kept;
* [`LegitimacyView`][ruralgov.app.dashboard.views.LegitimacyView] — the distribution of
  legitimacy;
* [`WatchView`][ruralgov.app.dashboard.views.WatchView] — the measures the story says to
  watch, with the steps each claim looks at.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ruralgov.analysis.plotting import cjk_font, cjk_rc
from ruralgov.app.dashboard import session as S
from ruralgov.app.dashboard.labels import measure_label, t
from ruralgov.model import RuralGovernanceModel

__all__ = ["LiveFigure", "SeriesView", "NetworkView", "LegitimacyView", "WatchView", "ft",
           "ft_format", "series_figure", "network_figure", "legitimacy_figure", "watch_figure",
           "figure_png", "PETITION", "PROTEST", "SIDES", "side_style"]

PETITION, PROTEST = "#ef6c00", "#c62828"
#: none kept (light grey) → half (pale green) → every rule kept (dark green)
KEPT = LinearSegmentedColormap.from_list("kept", ["#cfd8dc", "#a5d6a7", "#1b5e20"])
SCREEN_DPI = 72
PRINT_DPI = 110
#: Projector mode: figures drawn at this DPI (about as many pixels wide as a 1,280-pixel
#: screen shows them), every text at least BIG_TEXT points (20 pixels there) and titles
#: BIG_TITLE, so that the back row reads them.
PROJECTOR_DPI = 100
BIG_TEXT, BIG_TITLE = 15, 18

# ------------------------------------------------------------------ text in figures
_CJK = re.compile(r"\s*[(（][^()（）]*[\u4e00-\u9fff][^()（）]*[)）]|[\u4e00-\u9fff]+")


def ft(key: str, lang: str) -> str:
    """Figure text: Chinese where a Chinese font exists and was asked for; otherwise English
    without the Chinese terms (the page beside the figure shows them)."""
    if lang == "zh" and cjk_font():
        return t(key, "zh")
    return _CJK.sub("", t(key, "en")).strip()


def ft_format(key: str, lang: str, **values) -> str:
    """Figure text with values filled in (``{shown:,}``), in the figure's language."""
    use = "zh" if lang == "zh" and cjk_font() else "en"
    return t(key, use).format(**values)


def _nice(x: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5, 7.5, 10, 15, ... that is at least ``x`` (axis limits
    grow in these steps, so the background is rarely redrawn)."""
    if x <= 1:
        return 1.0
    e = 10 ** math.floor(math.log10(x))
    return next(m * e for m in (1, 1.5, 2, 3, 5, 7.5, 10) if m * e >= x)


class LiveFigure:
    """A figure whose ``dynamic`` artists change from frame to frame and whose background is
    cached until ``background_key()`` changes."""

    def __init__(self, lang: str, big: bool, **figure_kw):
        if lang == "zh" and cjk_font():
            import matplotlib

            matplotlib.rcParams.update(cjk_rc())
        self.lang, self.big = lang, big
        self.figure = Figure(**figure_kw)
        self.canvas = FigureCanvasAgg(self.figure)
        self.dynamic: list = []
        self._background = None
        self._key: tuple | None = None

    def background_key(self) -> tuple:
        """What the background depends on (limits, marks)."""
        return ()

    def frame(self, dpi: int | None = None) -> bytes:
        """The figure now as PNG, drawn on the cached background (at the screen's DPI, or
        the projector's in projector mode)."""
        dpi = dpi or (PROJECTOR_DPI if self.big else SCREEN_DPI)
        key = (dpi, *self.background_key())
        if key != self._key or self._background is None:
            for a in self.dynamic:
                a.set_animated(True)
            self.figure.set_dpi(dpi)
            self.canvas.draw()  # the background: everything but the dynamic artists
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._key = key
        else:
            self.canvas.restore_region(self._background)
        for a in self.dynamic:
            if a.get_visible():
                self.figure.draw_artist(a)
        return _png(self.canvas)


def _png(canvas: FigureCanvasAgg) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buf, format="png",
                                                            compress_level=1)
    return buf.getvalue()


# ------------------------------------------------------------------ time series
#: The sides of a comparison in colour-blind-safe colours (Okabe & Ito 2008: blue and
#: vermillion stay apart in protanopia, deuteranopia and tritanopia) and two line styles;
#: in compare mode a panel's measures differ by marker.
SIDES = {"": ("#0072B2", "-"), "A": ("#0072B2", "-"), "B": ("#D55E00", "--")}
_MARKERS = (None, "o", "^")


def side_style(name: str, names: list[str]) -> tuple[str, str]:
    """(colour, line style) of a side: A's and B's, or, for other names (a notebook's), the
    first name A's and the second B's."""
    return SIDES.get(name) or (SIDES["A"], SIDES["B"])[names.index(name) % 2]

_PANELS = (  # (title key, [(column, colour, label key)], fixed upper limit or None)
    ("compliance", [("compliance", "#2e7d32", "compliance"),
                    ("evasion", "#90a4ae", "evasion")], 1.0),
    ("petitions", [("petitions_individual", "#1565c0", "individual"),
                   ("petitions_collective", "#6a1b9a", "collective"),
                   ("petitions_escalated", "#ef6c00", "escalated")], None),
    ("protesters", [("protesters", "#c62828", "protesters")], None),
    ("substitution", [("substitution_index", "#795548", "substitution")], 1.0),
)


class SeriesView(LiveFigure):
    """Compliance and evasion, petitions (individual, collective, escalated), protesters and
    disputes settled by elders over time; one line style per model (compare mode), the
    campaign shaded, each intervention a labelled line."""

    def __init__(self, names: list[str], lang: str = "en", big: bool = False,
                 height: float | None = None):
        super().__init__(lang, big, figsize=(12.0, 6.2) if big else (9.0, height or 5.0))
        self.names = list(names)
        self.axes = self.figure.subplots(2, 2).ravel()
        self.lines: dict[tuple[str, str], object] = {}
        self.markers: dict[tuple[str, str], str | None] = {}
        small, title = (BIG_TEXT, BIG_TITLE) if big else (6, 9)
        two = len(self.names) > 1
        for ax, (key, cols, top) in zip(self.axes, _PANELS):
            for name in self.names:
                for k, (col, colour, _) in enumerate(cols):
                    # compare mode: a colour and a line style per side, a marker per measure
                    side, ls = side_style(name, self.names) if two else (colour, "-")
                    (line,) = ax.plot([], [], ls, color=side, lw=2.0 if big else 1.5,
                                      marker=_MARKERS[k] if two else None,
                                      ms=7 if big else 4)
                    self.lines[(name, col)] = line
                    self.markers[(name, col)] = _MARKERS[k] if two else None
            # the measures' legend above the panel (never over the lines), for two or more
            ax.set_title(ft(key, lang), fontsize=title, pad=small * 2.2 if len(cols) > 1 else 6)
            if len(cols) > 1:
                ax.legend(handles=[Line2D([], [], color="#546e7a" if two else colour,
                                          marker=_MARKERS[k] if two else None, lw=2)
                                   for k, (_, colour, _) in enumerate(cols)],
                          labels=[ft(label, lang) for _, _, label in cols], fontsize=small,
                          frameon=False, loc="lower center", bbox_to_anchor=(0.5, 0.98),
                          ncol=len(cols), handlelength=1.6, columnspacing=1.0,
                          borderaxespad=0.1)
            ax.set_xlabel(ft("time", lang), fontsize=small + 1)
            ax.tick_params(labelsize=small + 1)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if top is not None:
                ax.set_ylim(0, top)
        if two:  # which side is which: once, at the top
            self.figure.legend(handles=[Line2D([], [], color=c, ls=ls, lw=2.5) for c, ls in
                                        (side_style(n, self.names) for n in self.names)],
                               labels=self.names,
                               loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                               fontsize=small + 1, frameon=False)
        self.spans = [Rectangle((0, 0), 0, 1, transform=ax.get_xaxis_transform(),
                                color="#fff3e0", zorder=0, visible=False) for ax in self.axes]
        for ax, span in zip(self.axes, self.spans):
            ax.add_patch(span)
        self.hint = self.axes[0].text(0.5, 0.5, ft("press_step", lang), ha="center",
                                      va="center", transform=self.axes[0].transAxes,
                                      fontsize=title, color="#90a4ae")
        self.dynamic = [*self.spans, *self.lines.values(), self.hint]
        self._xmax, self._ymax = 24.0, [1.0] * len(self.axes)  # two years, then doubling
        self._marks: tuple = ()
        self.figure.subplots_adjust(left=0.06, right=0.98, bottom=0.09 if not big else 0.1,
                                    top=0.88, hspace=0.62, wspace=0.15)

    def background_key(self) -> tuple:
        return (self._xmax, tuple(self._ymax), self._marks)

    def update(self, models: dict[str, RuralGovernanceModel]) -> SeriesView:
        """Put the models' series into the figure."""
        steps = max((m.steps for m in models.values()), default=0)
        while self._xmax < steps:
            self._xmax *= 2
        for ax in self.axes:
            ax.set_xlim(0.5, self._xmax + 0.5)
        self.hint.set_visible(steps == 0)
        campaign: list[int] = []
        for name, m in models.items():
            series = m.series()
            if series.empty:
                continue
            x = series["step"].to_numpy()
            for k, (_, cols, top) in enumerate(_PANELS):
                for col, _, _ in cols:
                    y = series[col].to_numpy()
                    line = self.lines[(name, col)]
                    line.set_data(x, y)
                    # a measure's own marker (compare mode), else a dot while there are few
                    line.set_marker(self.markers[(name, col)] or ("o" if len(x) < 3 else ""))
                    line.set_markevery(0.1 if len(x) >= 3 else None)  # (every point: 1 or 2)
                    if top is None and len(y):
                        self._ymax[k] = max(self._ymax[k], _nice(float(np.nanmax(y)) * 1.1))
            if "campaign_active" in series and series["campaign_active"].any():
                campaign += x[series["campaign_active"].astype(bool)].tolist()
        for k, (ax, (_, _, top)) in enumerate(zip(self.axes, _PANELS)):
            if top is None:
                ax.set_ylim(0, self._ymax[k])
        for span in self.spans:
            span.set_visible(bool(campaign))
            if campaign:
                span.set_x(min(campaign) - 0.5)
                span.set_width(max(campaign) - min(campaign) + 1)
        marks = tuple((name, iv.step) for name, m in models.items() for iv in m.interventions
                      if iv.step <= m.steps)
        if marks != self._marks:
            self._marks = marks
            self._draw_marks(models)
        return self

    def _draw_marks(self, models: dict[str, RuralGovernanceModel]) -> None:
        """A labelled line on every panel where an intervention took effect: between the
        record of the step before it and that of its first step."""
        for ax in self.axes:
            for artist in [*ax.lines, *ax.texts]:
                if artist.get_gid() == "intervention":
                    artist.remove()
        size = BIG_TEXT if self.big else 6
        for name, m in models.items():
            tag = f" {name}" if len(models) > 1 else ""
            for k, iv in enumerate(m.interventions, start=1):
                if iv.step > m.steps:
                    continue
                for ax in self.axes:
                    ax.axvline(iv.step - 0.5, color="#37474f", ls=":", lw=1.2, zorder=1,
                               gid="intervention")
                    ax.text(iv.step - 0.5, 0.02, f"{ft('intervention', self.lang)} {k}{tag} ",
                            transform=ax.get_xaxis_transform(), rotation=90, va="bottom",
                            ha="right", fontsize=size, color="#37474f", gid="intervention")


# ------------------------------------------------------------------ network
class NetworkView(LiveFigure):
    """The villagers' network (both sides of a comparison side by side): ties in light grey,
    each villager coloured by the share of their live rules they keep (grey none → dark green
    all), orange with a petition pending, red protesting. Encoded again only when a colour
    changed."""

    def __init__(self, models: dict[str, RuralGovernanceModel], layouts: dict[str, S.Layout],
                 lang: str = "en", big: bool = False):
        two = len(models) > 1
        size = (12.8, 6.6) if big and two else (6.4, 6.4) if big else (
            (9.2, 4.9) if two else (4.6, 4.6))
        super().__init__(lang, big, figsize=size)
        self.layouts = layouts
        axes = self.figure.subplots(1, len(models), squeeze=False)[0]
        self.dots = {name: _draw_network(ax, m, layouts[name], lang,
                                         f"{ft('network', lang)} {name}" if two else None, big)
                     for ax, (name, m) in zip(axes, models.items())}
        self.dynamic = list(self.dots.values())
        self._colours: dict[str, np.ndarray] = {}
        self._last: bytes | None = None  # the last frame, kept while no colour changes
        self.figure.subplots_adjust(left=0.01, right=0.99, bottom=0.16 if two else 0.14,
                                    top=0.9, wspace=0.05)

    def update(self, models: dict[str, RuralGovernanceModel]) -> NetworkView:
        for name, m in models.items():
            colours = _colours(m, self.layouts[name])
            old = self._colours.get(name)
            if old is None or not np.array_equal(colours, old):
                self.dots[name].set_facecolors(colours)
                self._colours[name] = colours
                self._last = None
        return self

    def frame(self, dpi: int | None = None) -> bytes:
        dpi = dpi or (PROJECTOR_DPI if self.big else SCREEN_DPI)
        if self._last is None or self._key is None or self._key[0] != dpi:
            self._last = super().frame(dpi)
        return self._last


def _colours(model: RuralGovernanceModel, layout: S.Layout) -> np.ndarray:
    share, state = S.behaviour(model, layout.nodes)
    colours = KEPT(share)
    colours[state == 2] = to_rgba(PETITION)
    colours[state == 3] = to_rgba(PROTEST)
    return colours


def _draw_network(ax, model: RuralGovernanceModel, layout: S.Layout, lang: str,
                  title: str | None, big: bool = False):
    from matplotlib.collections import LineCollection

    if len(layout.edges):
        segs = layout.xy[layout.edges]
        ax.add_collection(LineCollection(segs, colors="#eceff1", linewidths=0.3, zorder=1))
    dots = ax.scatter(layout.xy[:, 0], layout.xy[:, 1], s=6 if len(layout.nodes) > 600 else 14,
                      c=_colours(model, layout), linewidths=0, zorder=2)
    for k, (x, y) in enumerate(layout.township_xy):
        ax.annotate(f"T{k + 1}", (x, y), ha="center", va="center",
                    fontsize=BIG_TEXT if big else 8, alpha=0.6)
    legend = [(KEPT(1.0), "net_keeps"), (KEPT(0.5), "net_half"), (KEPT(0.0), "net_evades"),
              (PETITION, "net_petition"), (PROTEST, "net_protest")]
    for colour, key in legend:
        ax.scatter([], [], color=colour, s=20, label=ft(key, lang))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3,
              fontsize=BIG_TEXT if big else 7, frameon=False, handletextpad=0.2,
              columnspacing=0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    note = ""
    if layout.sampled:
        note = "\n" + ft_format("sampled", lang, shown=len(layout.nodes),
                                total=model.n_villagers)
    ax.set_title((title or ft("network", lang)) + note, fontsize=BIG_TITLE if big else 9)
    return dots


# ------------------------------------------------------------------ legitimacy
class LegitimacyView(LiveFigure):
    """The distribution of legitimacy among villagers (two overlaid in compare mode)."""

    BINS = np.linspace(0, 1, 26)

    def __init__(self, names: list[str], lang: str = "en", big: bool = False):
        super().__init__(lang, big, figsize=(6.4, 4.2) if big else (4.6, 3.0))
        ax = self.axes = self.figure.subplots()
        self.bars = {}
        for name in names:  # compare mode: A filled, B an outline, in the sides' colours
            colour, style = side_style(name, list(names))
            self.bars[name] = ax.stairs(np.zeros(len(self.BINS) - 1), self.BINS,
                                        fill=style == "-", color=colour, linestyle=style,
                                        lw=2.5 if big else 1.5,
                                        alpha=(0.9 if len(names) == 1 else
                                               0.6 if style == "-" else 1.0),
                                        label=name or None)
        ax.set_title(ft("legitimacy", lang), fontsize=BIG_TITLE if big else 9)
        ax.tick_params(labelsize=BIG_TEXT if big else 7)
        ax.set_xlabel(ft("legit_x", lang), fontsize=BIG_TEXT if big else 7)
        ax.set_ylabel(ft("legit_y", lang), fontsize=BIG_TEXT if big else 7)
        ax.set_xlim(0, 1)
        if len(names) > 1:
            ax.legend(fontsize=BIG_TEXT if big else 7)
        self.dynamic = list(self.bars.values())
        self._ymax = 1.0
        self.figure.subplots_adjust(left=0.14, right=0.97, bottom=0.2, top=0.88)

    def background_key(self) -> tuple:
        return (self._ymax,)

    def update(self, models: dict[str, RuralGovernanceModel]) -> LegitimacyView:
        for name, m in models.items():
            heights, _ = np.histogram(m.villagers.legitimacy, bins=self.BINS, density=True)
            self.bars[name].set_data(heights)
            self._ymax = max(self._ymax, _nice(float(heights.max()) * 1.05))
        self.axes.set_ylim(0, self._ymax)
        return self


# ------------------------------------------------------------------ what to watch
class WatchView(LiveFigure):
    """One panel for each measure the running stories say to watch: the measure over time for
    each side, the steps a claim looks at shaded blue (the window it is compared from, grey),
    drawn from step 0 so that the room knows where to look."""

    def __init__(self, claims: list[S.ClaimOnScreen], names: list[str], lang: str = "en",
                 big: bool = False):
        self.measures = list(dict.fromkeys(c.claim.measure for c in claims))
        n = max(len(self.measures), 1)
        cols = 2 if n in (2, 4) else min(n, 3)
        rows = math.ceil(n / cols)
        super().__init__(lang, big, figsize=(12.0, 3.6 * rows) if big else (9.0, 2.6 * rows))
        self.axes = self.figure.subplots(rows, cols, squeeze=False).ravel()
        small, title = (BIG_TEXT, BIG_TITLE) if big else (7, 9)
        self.lines = {}
        for ax, measure in zip(self.axes, self.measures):
            for c in claims:
                if c.claim.measure != measure:
                    continue
                ax.axvspan(c.claim.steps[0] - 0.5, c.claim.steps[1] + 0.5, color="#bbdefb",
                           alpha=0.5, zorder=0, lw=0)
                if c.claim.start:
                    ax.axvspan(c.claim.start[0] - 0.5, c.claim.start[1] + 0.5,
                               color="#cfd8dc", alpha=0.6, zorder=0, lw=0)
            for name in names:
                colour, style = side_style(name, names)
                (self.lines[(name, measure)],) = ax.plot(
                    [], [], style, color=colour, lw=2.2 if big else 1.5, label=name or None)
            ax.set_title(_measure_title(measure, lang), fontsize=title)
            ax.set_xlabel(ft("time", lang), fontsize=small)
            ax.tick_params(labelsize=small)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if len(names) > 1:
                ax.legend(fontsize=small, frameon=False, loc="upper left")
        for ax in self.axes[len(self.measures):]:
            ax.axis("off")
        self.dynamic = list(self.lines.values())
        self._xmax = float(max((c.claim.last_step for c in claims), default=24))
        self._ylim = {m: (0.0, 1.0) for m in self.measures}
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.16 if rows == 1 else 0.1,
                                    top=0.88 if rows == 1 else 0.92, hspace=0.6, wspace=0.2)

    def background_key(self) -> tuple:
        return (self._xmax, tuple(self._ylim.values()))

    def update(self, models: dict[str, RuralGovernanceModel]) -> WatchView:
        steps = max((m.steps for m in models.values()), default=0)
        while self._xmax < steps:
            self._xmax *= 2
        for name, m in models.items():
            series = m.series()
            if series.empty:
                continue
            x = series["step"].to_numpy()
            for measure in self.measures:
                y = series[measure].to_numpy(dtype=float)
                line = self.lines[(name, measure)]
                line.set_data(x, y)
                line.set_marker("o" if len(x) < 3 else "")
                if np.isfinite(y).any():
                    lo, hi = self._ylim[measure]
                    lo = min(lo, -_nice(-float(np.nanmin(y)) * 1.1)) if np.nanmin(y) < 0 else lo
                    self._ylim[measure] = (lo, max(hi, _nice(float(np.nanmax(y)) * 1.1)))
        for ax, measure in zip(self.axes, self.measures):
            ax.set_xlim(0.5, self._xmax + 0.5)
            ax.set_ylim(*self._ylim[measure])
        return self


def _measure_title(measure: str, lang: str) -> str:
    use = "zh" if lang == "zh" and cjk_font() else "en"
    return measure_label(measure, use)


# ------------------------------------------------------------------ whole figures
def _whole(view: LiveFigure) -> Figure:
    """A view's figure with everything drawn normally (not animated): for a file."""
    for a in view.dynamic:
        a.set_animated(False)
    return view.figure


def series_figure(models: dict[str, RuralGovernanceModel], lang: str = "en",
                  big: bool = False, height: float | None = None) -> Figure:
    """The series as one complete figure (for a download or a notebook); ``height`` in
    inches (the handout's is lower than the page's)."""
    return _whole(SeriesView(list(models), lang, big, height).update(models))


def network_figure(models: dict[str, RuralGovernanceModel], layouts: dict[str, S.Layout],
                   lang: str = "en", big: bool = False) -> Figure:
    """The villagers' network now (both sides of a comparison in one picture)."""
    return _whole(NetworkView(models, layouts, lang, big).update(models))


def legitimacy_figure(models: dict[str, RuralGovernanceModel], lang: str = "en",
                      big: bool = False) -> Figure:
    """The distribution of legitimacy now, as one complete figure."""
    return _whole(LegitimacyView(list(models), lang, big).update(models))


def watch_figure(models: dict[str, RuralGovernanceModel], lang: str = "en",
                 big: bool = False) -> Figure:
    """The measures the stories say to watch, as one complete figure."""
    claims = S.watch_claims(models, lang)
    return _whole(WatchView(claims, list(models), lang, big).update(models))


def figure_png(fig: Figure, dpi: int = PRINT_DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
