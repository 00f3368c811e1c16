"""The dashboard page (Solara, with Mesa's model controller). Start it with
``ruralgov dashboard``; the settings come from the environment that command sets:
``RURALGOV_DASHBOARD_SCENARIO`` (the scenario shown first) and ``RURALGOV_DASHBOARD_LANG``
(``en`` or ``zh``; empty: each browser's language, Chinese unless it prefers English). A
switch in the top bar changes the language of one browser's page.

A trainer picks a scenario, reads its story, moves the levers (bounded by the parameter
registry), applies them and steps or plays; compare mode runs two settings side by side on the
same seed. What is drawn is computed in
[`ruralgov.app.dashboard.session`][ruralgov.app.dashboard.session].
"""

from __future__ import annotations

import functools
import html
import os
import random
import time
import traceback
from types import SimpleNamespace

import solara
from mesa.visualization.utils import force_update, update_counter

from ruralgov.app.dashboard import session as S
from ruralgov.app.dashboard import views as V
from ruralgov.app.dashboard.handout import handout_html
from ruralgov.app.dashboard.labels import (
    CONTROL_GROUPS,
    LANGS,
    control_label,
    format_value,
    meaning,
    preferred_lang,
    t,
)
from ruralgov.io.fonts import FAMILY, WOFF2, css_face
from ruralgov.io.scenario import list_scenarios, load_scenario
from ruralgov.model.params import AT_START, REGISTRY

#: The language the command asked for ("en", "zh"), or "" for the browser's (Chinese unless
#: it prefers English).
ASKED_LANG = os.environ.get("RURALGOV_DASHBOARD_LANG", "")
#: The page's language, per browser session, once chosen with the switch in the top bar.
LANGUAGE = solara.reactive("")


def _lang() -> str:
    """The page's language: the switch's, else the command's, else the browser's."""
    if LANGUAGE.value in LANGS:
        return LANGUAGE.value
    if ASKED_LANG in LANGS:
        return ASKED_LANG
    accept = (solara.lab.headers.value or {}).get("accept-language", [""])
    return preferred_lang(accept[0] if accept else "")


FIRST_SCENARIO = os.environ.get("RURALGOV_DASHBOARD_SCENARIO", "baseline")
CONTROLS = [name for _, items in CONTROL_GROUPS for name, _, _ in items] + ["n_villagers"]
VILLAGERS_MAX = 20_000  # the slider's top (a step stays well under a second)
#: The bundled Chinese font (served by `ruralgov dashboard` at static/assets/) before any
#: system font, on every element of the page.
FONT_CSS = css_face(f"static/assets/{WOFF2.name}") + f"""
.v-application, .v-application .body-1, .v-application .body-2, .v-application button,
.v-application input, .v-application .v-card__title {{
  font-family: Roboto, "{FAMILY}", "Noto Sans CJK SC", sans-serif !important; }}
"""
#: Projector mode: type readable from the back of a room (the figures switch to large type
#: and full width themselves).
PROJECTOR_CSS = """
.rg-big, .rg-big .v-card__text, .rg-big .v-card__title { font-size: 1.35rem !important;
  line-height: 1.5; }
.rg-big table.rg-table { font-size: 1.2rem; }
table.rg-table td, table.rg-table th { padding: 0.1em 0.6em; text-align: right; }
.rg-holds { color: #1b5e20; font-weight: bold; } .rg-fails { color: #b71c1c; font-weight: bold; }
.rg-so_far, .rg-waiting, .rg-compare { color: #607d8b; }
"""


def scenario_settings(name: str) -> dict:
    """The controls' values as the scenario sets them, after its own county-wide
    interventions (a run downloaded from the page and opened again): the levers then show
    where the file takes the county, and "Change now" offers nothing to undo."""
    sc = load_scenario(name)
    params = sc.resolved()
    for iv in sc.interventions:  # (in step order)
        if iv.township is None:
            params.update(iv.settings)
    return {k: params[k] for k in CONTROLS}


def _changed(name: str, values: dict) -> dict:
    """Only the controls that differ from the scenario: the rest stays the scenario's."""
    base = scenario_settings(name)
    return {k: v for k, v in values.items() if base[k] != v}


def int_slider(name: str, value: int) -> tuple[int, int, int]:
    """(lowest, highest, step) of an integer control's slider, always holding ``value``: the
    villagers' slider goes up to VILLAGERS_MAX, or to a larger county's own size (a file of
    50,000 keeps its 50,000: a slider never shrinks what it shows), in hundreds unless the
    county's size is not a whole hundred."""
    p = REGISTRY[name]
    if name in ("campaign_start", "campaign_duration"):  # (up to a hundred years of steps)
        return int(p.lo), max(1200, value), 1
    if name != "n_villagers":
        return int(p.lo), int(p.hi), 1
    hi = min(max(VILLAGERS_MAX, value), S.MAX_VILLAGERS)
    return max(int(p.lo), 100), hi, 100 if value % 100 == 0 else 1


@solara.component
def Control(name: str, value, on_value):
    p = REGISTRY[name]
    label = control_label(name, _lang())
    if p.type == "bool":
        solara.Checkbox(label=label, value=bool(value), on_value=on_value)
        _about(name)
        return
    solara.Text(label, style={"font-size": "0.9em"})
    if p.type == "int":
        lo, hi, step = int_slider(name, int(value))
        solara.SliderInt(label="", value=int(value), min=lo, max=hi, step=step,
                         on_value=on_value, thumb_label=True)
    else:
        solara.SliderFloat(label="", value=float(value), min=float(p.lo), max=float(p.hi),
                           step=(float(p.hi) - float(p.lo)) / 100, on_value=on_value,
                           thumb_label=True)
    # the value and the allowed range, readable from the back of the room
    shown = f"{value:,}" if p.type == "int" else f"{float(value):.2f}"
    span = (f"{lo:,}–{hi:,}" if p.type == "int" else f"{float(p.lo):g}–{float(p.hi):g}")
    _about(name, f"= {shown}  ({span})" if _lang() != "zh" else f"当前 {shown}（范围 {span}）")


def _shown(text: str) -> None:
    """A slider's value and unit, under it."""
    solara.HTML(tag="div", unsafe_innerHTML=f'<div style="font-size:0.8em;color:#1565c0">'
                f"{html.escape(text)}</div>")


def _about(name: str, value: str = "") -> None:
    """A control's value and range, meaning and whether it needs a reset: one widget (the
    page re-renders all of its widgets on every step, so fewer is faster)."""
    parts = [f'<div style="font-size:0.8em;color:#1565c0">{html.escape(value)}</div>'
             if value else "",
             f'<div style="font-size:0.75em;color:#607d8b">{html.escape(meaning(name, _lang()))}'
             "</div>"]
    if name in AT_START:  # an intervention cannot move it
        parts.append(f'<div style="font-size:0.75em;color:#8d6e63">'
                     f'({html.escape(t("at_start", _lang()))})</div>')
    solara.HTML(tag="div", unsafe_innerHTML="".join(parts))


@solara.component
def Group(title: str, names: list[str], values: solara.Reactive):
    """A group of controls, drawn only while open (closed groups cost the page nothing)."""
    open_ = solara.use_reactive(False)
    solara.Button(("▾ " if open_.value else "▸ ") + title, text=True, color="primary",
                  style="text-transform: none; justify-content: flex-start; width: 100%",
                  on_click=lambda: open_.set(not open_.value))
    if open_.value:
        for name in names:
            Control(name, values.value[name],
                    lambda v, name=name: values.set({**values.value, name: v}))


def _advance(model: solara.Reactive, steps: int) -> None:
    """Step the running county (or both sides) ``steps`` times, then redraw."""
    for _ in range(steps):
        model.value.step()
    force_update()


@solara.component
def Controller(model: solara.Reactive, params: solara.Reactive, play_interval: solara.Reactive,
               render_interval: solara.Reactive, playing: solara.Reactive, drawn=None):
    """Reset, play/pause and step in the page's language (Mesa's ModelController, whose
    buttons are English, does the same): the model steps in a worker thread while playing and
    every picture updates through Mesa's ``update_counter``. While playing, the next step
    waits until the page has drawn the last one (``drawn``), so every step is seen. (In
    projector mode the sidebar is closed but stays drawn: its play loop goes on, and the top
    bar's buttons share ``playing``.)"""

    def play():
        try:
            while playing.value and model.value.running:
                time.sleep(play_interval.value / 1000)
                if not playing.value:
                    break
                _advance(model, render_interval.value)
                waited = 0.0
                while (drawn is not None and drawn.current < _steps(model.value)
                       and waited < 2.0 and playing.value):
                    time.sleep(0.005)
                    waited += 0.005
        except Exception:  # never crash the server
            traceback.print_exc()
            playing.set(False)

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def reset():
        playing.set(False)
        model.set(type(model.value)(**params.value))

    with solara.Row(justify="space-between"):
        solara.Button(label=t("btn_reset", _lang()), color="primary", on_click=reset)
        solara.Button(label="❚❚" if playing.value else "▶", color="primary",
                      on_click=lambda: playing.set(not playing.value))
        solara.Button(label=t("btn_step", _lang()), color="primary",
                      on_click=lambda: _advance(model, render_interval.value),
                      disabled=playing.value)


def _sides(model) -> list:
    """The run, or both sides of a comparison."""
    return [model.a, model.b] if isinstance(model, S.Comparison) else [model]


def _steps(model) -> int:
    """The steps a run (or both sides of a comparison) has taken."""
    return model.a.steps if isinstance(model, S.Comparison) else model.steps


@solara.component
def Intervene(model: solara.Reactive, params: solara.Reactive, sides: list[solara.Reactive]):
    """Move the levers changed on the page into the running county from the next step,
    without a reset (ODD 7.1); Reset then replays the run with the change."""
    update_counter.get()  # the step number on the button follows the run
    both = isinstance(model.value, S.Comparison)  # (the mode may change before the model)
    models = [model.value.a, model.value.b] if both else [model.value]
    now, later = {}, {}
    for m, values in zip(models, sides):
        a, b = S.pending(m, values.value)
        now.update(a)
        later.update(b)

    def go():
        S.intervene_sides(model.value, [values.value for values in sides])
        params.set(model.value.settings())  # Reset replays the interventions
        force_update()

    with solara.Card(t("intervene_title", _lang())):
        solara.Text(t("intervene_help", _lang()), style={"font-size": "0.8em", "color": "#607d8b"})
        solara.Button(t("intervene", _lang()).format(step=models[0].steps + 1), color="secondary",
                      on_click=go, disabled=not now)
        if now:
            solara.Text(f"{t('will_change', _lang())}: "
                        + ", ".join(control_label(k, _lang()) for k in now),
                        style={"font-size": "0.8em", "color": "#1565c0"})
        else:
            solara.Text(t("intervene_none", _lang()), style={"font-size": "0.8em"})
        if later:
            solara.Text(f"{t('needs_reset', _lang())}: "
                        + ", ".join(control_label(k, _lang()) for k in later),
                        style={"font-size": "0.8em", "color": "#8d6e63"})
        _campaign_buttons(model, params, sides)


def _campaign_buttons(model: solara.Reactive, params: solara.Reactive,
                      sides: list[solara.Reactive]) -> None:
    """Start or end the campaign now, in every side built with a campaign rule; the levers
    on the page follow (so "Change now" does not offer to undo it)."""
    running = [S.campaign_running(m) for m in _sides(model.value)]
    if all(r is None for r in running):
        solara.Text(t("campaign_none", _lang()), style={"font-size": "0.8em", "color": "#8d6e63"})
        return

    def act(start: bool):
        run = model.value  # (the run now: a Reset may have come since the render)
        with run.lock:  # both sides at the same step
            for m, values in zip(_sides(run), sides):
                if change := S.campaign_now(m, start):
                    values.set({**values.value, **change})
        params.set(run.settings())  # Reset replays it
        force_update()

    now = _sides(model.value)[0].steps
    solara.Button(t("campaign_start_now", _lang()).format(step=now + 1), color="secondary",
                  on_click=lambda: act(True), disabled=not any(r is False for r in running))
    solara.Button(t("campaign_end_now", _lang()).format(step=now), color="secondary",
                  on_click=lambda: act(False), disabled=not any(running))


@solara.component
def Settings(title: str, scenario: solara.Reactive, values: solara.Reactive, on_apply=None):
    names = _scenario_names()
    if scenario.value not in names:  # a scenario file given by path
        names = [scenario.value, *names]
    # listed by title in the page's language (a file given by path: by its name)
    label = {n: _story(n, _lang())[0] if n in _scenario_names() else n for n in names}
    by_label = {v: k for k, v in label.items()}

    def pick(chosen):
        name = by_label.get(chosen, chosen)
        scenario.set(name)
        values.set(scenario_settings(name))

    with solara.Card(title):
        solara.Select(label=t("scenario", _lang()), value=label[scenario.value],
                      values=[label[n] for n in names], on_value=pick)
        Control("n_villagers", values.value["n_villagers"],
                lambda v: values.set({**values.value, "n_villagers": v}))
        for (en, zh), items in CONTROL_GROUPS:
            Group(zh if _lang() == "zh" else f"{en} {zh}", [name for name, _, _ in items], values)
        if on_apply is not None:  # beside the levers, as well as under the seed
            solara.Button(t("apply", _lang()), color="primary", on_click=on_apply)


@functools.lru_cache(maxsize=64)
def _story(name: str, lang: str) -> tuple[str, str]:
    title, story = load_scenario(name).text(lang)
    return title, story if lang == "zh" else " ".join(story.split())


@functools.lru_cache(maxsize=1)
def _scenario_names() -> list[str]:
    return [s.name for s in list_scenarios()]


@solara.component
def Story(model, big: bool = False):
    """The story of what is running (A and B in compare mode). In projector mode it folds
    away once the run has started, so that the charts fill the screen (a button unfolds it)."""
    update_counter.get()
    # the trainer's fold or unfold, for this run in projector mode: (id of the run, shown)
    opened = solara.use_reactive((None, True))
    # (from the model, not the mode: a render may come between setting one and the other)
    both = isinstance(model, S.Comparison)
    runs = [("A", model.a), ("B", model.b)] if both else [("", model)]
    show = (not big or (opened.value[1] if opened.value[0] == id(model)
                        else _steps(model) == 0))
    with solara.Columns([1] * len(runs)):
        for name, m in runs:
            title, story = _story(m.scenario_name, _lang())
            with solara.Card(f"{name} {title}".strip()):
                if show:
                    solara.Text(story)
                if show and m.overrides:  # what changed from the scenario
                    solara.Text(f"{t('changed', _lang())}: " + ", ".join(
                        f"{control_label(k, _lang())} = {format_value(v, _lang())}"
                        for k, v in m.overrides.items()),
                        style={"font-size": "0.85em", "color": "#1565c0"})
    if big:
        solara.Button(("▾ " if show else "▸ ") + t("story", _lang()), text=True, color="primary",
                      style="text-transform: none",
                      on_click=lambda: opened.set((id(model), not show)))


class _Live:
    """The live views of one run (or comparison), built once per run and size."""

    def __init__(self, models: dict, layouts: dict, big: bool):
        names = list(models)
        self.series = V.SeriesView(names, _lang(), big)
        self.network = V.NetworkView(models, layouts, _lang(), big)
        self.legitimacy = V.LegitimacyView(names, _lang(), big)
        claims = S.watch_claims(models, _lang())
        self.watch = V.WatchView(claims, names, _lang(), big) if claims else None

    def frames(self, models: dict) -> list[bytes]:
        return [self.series.update(models).frame(), self.network.update(models).frame(),
                self.legitimacy.update(models).frame(),
                self.watch.update(models).frame() if self.watch else b""]


def _watch_card(models: dict, picture: bytes, compare_with=None):
    """What the story says to watch: each claim and where it stands on this run, a button
    that puts the scenario a claim compares with beside it, and the measures over time."""
    claims = S.watch_claims(models, _lang())
    if not claims:
        return
    with solara.Card(t("watch_title", _lang())):
        rows = "".join(
            f"<li><b>{html.escape(c.side)}</b> {html.escape(c.text)} — "
            f'<span class="rg-claim rg-{c.state}">{html.escape(c.status(_lang()))}</span></li>'
            for c in claims)
        solara.HTML(tag="div", unsafe_innerHTML=f'<ul class="rg-watch">{rows}</ul>'
                    f'<div style="font-size:0.8em;color:#607d8b">'
                    f'{html.escape(t("watch_note", _lang()))}</div>')
        if compare_with is not None:
            # (for the story on side A: the compared scenario goes on B)
            for than in dict.fromkeys(c.claim.than for c in claims
                                      if c.state == "compare" and c.side in ("", "A")):
                solara.Button(t("btn_compare_with", _lang()).format(
                    than=S.scenario_title(than, _lang())), color="secondary",
                    on_click=lambda than=than: compare_with(than))
        solara.Image(picture, width="100%")


@solara.component
def Views(model, big: bool = False, drawn=None, compare_with=None):
    update_counter.get()
    both = isinstance(model, S.Comparison)  # (as Story)
    models = {"A": model.a, "B": model.b} if both else {"": model}
    first = next(iter(models.values()))
    ids = [id(m) for m in models.values()]
    layouts = solara.use_memo(lambda: {k: S.network_layout(m) for k, m in models.items()},
                              ids)
    lang = _lang()
    live = solara.use_memo(lambda: _Live(models, layouts, big), [*ids, big, lang])
    log = solara.use_ref([])
    seen = solara.use_ref(-1)
    if first.steps != seen.current:  # one entry per step, newest first
        if first.steps == 0:
            log.current = []
        for name, m in models.items():
            log.current = [f"{name} {e}".strip() for e in S.events(m, _lang())] + log.current
        log.current = log.current[:60]
        seen.current = first.steps

    solara.Text(f"Step {first.steps} · seed {first.seed} · {first.n_villagers:,} villagers"
                if _lang() != "zh" else
                f"第 {first.steps} 期 · 随机种子 {first.seed} · 村民{first.n_villagers:,}人",
                style={"font-weight": "bold", "font-size": "1.5em" if big else "1.1em"})
    # the pictures: updated once per step (data on a cached background), not redrawn
    key = (*ids, first.steps, big, lang)
    frames = solara.use_memo(lambda: live.frames(models), [key])
    solara.Image(frames[0], width="100%")
    _watch_card(models, frames[3], compare_with)
    if len(models) > 1:  # both networks side by side the page's width, then legitimacy
        solara.Image(frames[1], width="100%")
        solara.Image(frames[2], width="50%")
    else:  # two columns of half the page each (in a flex row images would shrink)
        with solara.Columns([1, 1]):
            solara.Image(frames[1], width="100%")
            solara.Image(frames[2], width="100%")
    with solara.Card(t("events", _lang())):
        # plain HTML: solara.Markdown would fetch KaTeX, which is not bundled (a 404)
        items = "".join(f"<li>{html.escape(e)}</li>" for e in log.current[:15])
        solara.HTML(tag="div", unsafe_innerHTML=f"<ul>{items}</ul>" if items else "—")
    with solara.Card(f"{t('townships', _lang())} · {t('departments', _lang())}"):
        # one widget for every table (the page re-renders all of its widgets on each step)
        solara.HTML(tag="div", unsafe_innerHTML="".join(
            f"<h4>{html.escape(f'{t(key, _lang())} {name}'.strip())}</h4>"
            + S.table_html(table(m, _lang()), _lang())
            for name, m in models.items()
            for key, table in (("townships", S.township_table),
                               ("departments", S.department_table))))
    if drawn is not None:  # (last: the play loop waits for this before the next step)
        drawn.current = first.steps
    shown = solara.use_reactive(False)  # downloads drawn only while open
    solara.Button(("▾ " if shown.value else "▸ ") + t("downloads", _lang()), text=True,
                  color="primary", style="text-transform: none",
                  on_click=lambda: shown.set(not shown.value))
    if shown.value:
        Downloads(models, layouts)


@solara.component
def Downloads(models: dict, layouts: dict):
    """The data (one CSV, both sides with a ``side`` column in compare mode), the figures (one
    PNG each, both sides in one) and the run as a scenario file per side, named by scenario,
    seed and step."""
    update_counter.get()  # the names follow the step
    # a Chinese CSV: the Chinese page's default, an option there (None: not chosen), never on
    # the English page (whatever was chosen before a switch of language)
    choice = solara.use_reactive(None)
    zh = _lang() == "zh" and choice.value is not False
    stem = S.download_stem(models, _lang())
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.FileDownload(lambda: S.series_csv(models, "zh" if zh else "en")
                            .encode("utf-8-sig" if zh else "utf-8"),
                            filename=f"{stem}.csv", label=t("download_csv", _lang()))
        if _lang() == "zh":
            solara.Checkbox(label=t("csv_zh", _lang()), value=zh, on_value=choice.set)
        solara.FileDownload(lambda: V.figure_png(V.series_figure(models, _lang())),
                            filename=f"{stem}-series.png", label=t("download_png", _lang()))
        solara.FileDownload(lambda: V.figure_png(V.network_figure(models, layouts, _lang())),
                            filename=f"{stem}-network.png", label=t("download_network", _lang()))
        solara.FileDownload(lambda: handout_html(models, layouts, _lang()).encode("utf-8"),
                            filename=f"{stem}-handout.html", label=t("download_handout", _lang()))
        for name, m in models.items():
            solara.FileDownload(lambda m=m: S.scenario_yaml(m).encode("utf-8"),
                                filename=S.download_stem({name: m}, _lang())
                                + (f"-{name}" if name else "") + ".yaml",
                                label=f"{t('download_scenario', _lang())} {name}".strip())


#: Projector mode (per browser session): large type, figures the width of the screen, the
#: sidebar closed (its menu button opens it) and Step and play in the top bar.
PROJECTOR = solara.reactive(False)


@solara.component
def Layout(children=[]):  # noqa: B006 (Solara's signature for a page's layout)
    """Solara's layout with the sidebar closed in projector mode."""
    return solara.AppLayout(children=children, sidebar_open=not PROJECTOR.value)


@solara.component
def TopBar(s: SimpleNamespace):
    """The title, the projector-mode switch and, in projector mode, Step and play."""
    with solara.AppBar():
        solara.AppBarTitle(t("title", _lang()))
        if PROJECTOR.value:
            solara.Button(label="❚❚" if s.playing.value else "▶", text=True,
                          style="color: white; font-size: 1.3rem",
                          on_click=lambda: s.playing.set(not s.playing.value))
            solara.Button(label=t("btn_step", _lang()), text=True, disabled=s.playing.value,
                          style="color: white; font-size: 1.3rem",
                          on_click=lambda: _advance(s.model, s.render_interval.value))
        solara.Checkbox(label=t("projector", _lang()), value=PROJECTOR, style="margin-left: 2em")
        # the language switch: each language named in itself
        solara.Button(label="English" if _lang() == "zh" else "中文", text=True,
                      style="color: white; margin-left: 1em; text-transform: none",
                      on_click=lambda: LANGUAGE.set("en" if _lang() == "zh" else "zh"))


def _page_state() -> SimpleNamespace:
    """The page's state (hooks, so called once per render of the page, always in order)."""
    # what a render must not redo (building a model, reading scenario files): computed once
    first = solara.use_memo(lambda: {
        "settings": scenario_settings(FIRST_SCENARIO),
        "seed": int(load_scenario(FIRST_SCENARIO).seed or 1)}, [])
    params = solara.use_reactive({"scenario": FIRST_SCENARIO, "seed": first["seed"],
                                  "overrides": {}})
    initial = solara.use_memo(lambda: S.Run(**params.value), [])
    return SimpleNamespace(
        mode=solara.use_reactive("single"),
        scen_a=solara.use_reactive(FIRST_SCENARIO), scen_b=solara.use_reactive(FIRST_SCENARIO),
        vals_a=solara.use_reactive(first["settings"]),
        vals_b=solara.use_reactive(first["settings"]),
        seed=solara.use_reactive(first["seed"]), error=solara.use_reactive(None),
        params=params, model=solara.use_reactive(initial),
        play_interval=solara.use_reactive(200), render_interval=solara.use_reactive(1),
        playing=solara.use_reactive(False),
        drawn=solara.use_ref(-1))  # the last step the page has drawn


def _apply(s: SimpleNamespace, new_seed: int | None = None) -> None:
    """Build the county (or both) from the page's settings: Apply and reset."""
    if new_seed is not None:
        s.seed.set(new_seed)
    seed = s.seed.value if new_seed is None else new_seed
    a = {"scenario": s.scen_a.value, "overrides": _changed(s.scen_a.value, s.vals_a.value)}
    try:
        if s.mode.value == "compare":
            b = {"scenario": s.scen_b.value,
                 "overrides": _changed(s.scen_b.value, s.vals_b.value)}
            new = {"seed": seed, "a": a, "b": b}
            built = S.Comparison(**new)
        else:
            new = {"seed": seed, **a}
            built = S.Run(**new)
    except Exception as err:  # never crash the server: say what is wrong on the page
        traceback.print_exc()
        s.error.set(f"{t('error', _lang())}: {err}")
        return
    s.error.set(None)
    s.params.set(new)
    s.model.set(built)


def _set_mode(s: SimpleNamespace, mode: str) -> None:
    s.mode.set(mode)
    _apply(s)


def _compare_with(s: SimpleNamespace, name: str) -> None:
    """B becomes the scenario a claim of the story compares with, as its file sets it."""
    s.scen_b.set(name)
    s.vals_b.set(scenario_settings(name))
    _set_mode(s, "compare")


def _sidebar(s: SimpleNamespace) -> None:
    modes = {t("single", _lang()): "single", t("compare", _lang()): "compare"}
    solara.ToggleButtonsSingle(value=t(s.mode.value, _lang()), values=list(modes),
                               on_value=lambda label: _set_mode(s, modes[label]))
    with solara.Card():
        Controller(s.model, s.params, s.play_interval, s.render_interval, s.playing, s.drawn)
        solara.SliderInt(label=t("play_ms", _lang()), value=s.play_interval, min=0, max=2000,
                         step=50)
        _shown(t("play_ms_value", _lang()).format(ms=s.play_interval.value))
        solara.SliderInt(label=t("render_every", _lang()), value=s.render_interval, min=1,
                         max=20)
        _shown(t("render_every_value", _lang()).format(n=s.render_interval.value))
        with solara.Row():
            solara.InputInt(label=t("seed", _lang()), value=s.seed.value,
                            on_value=lambda v: s.seed.set(int(v)))
            solara.Button(t("new_seed", _lang()),
                          on_click=lambda: _apply(s, random.randrange(1, 2**31)))
        solara.Button(t("apply", _lang()), color="primary", on_click=lambda: _apply(s))
        if s.error.value:
            solara.Error(s.error.value)
    Intervene(s.model, s.params, [s.vals_a, s.vals_b])
    compare = s.mode.value == "compare"
    Settings(t("left", _lang()) if compare else t("scenario", _lang()), s.scen_a, s.vals_a,
             None if compare else lambda: _apply(s))
    if compare:
        Settings(t("right", _lang()), s.scen_b, s.vals_b, lambda: _apply(s))


@solara.component
def Page():
    s = _page_state()
    TopBar(s)
    with solara.Sidebar():
        _sidebar(s)
    solara.Style(FONT_CSS + PROJECTOR_CSS)
    big = PROJECTOR.value
    with solara.Column(classes=["rg-big"] if big else []):
        Story(s.model.value, big)
        Views(s.model.value, big, s.drawn, lambda name: _compare_with(s, name))
