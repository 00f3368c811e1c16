"""What the dashboard shows, computed from a running model: no Solara here, so every piece can
be tested (and used in a notebook) without a browser.

* [`build`][ruralgov.app.dashboard.session.build] — a model from a scenario, the controls' values
  and a seed;
* [`Comparison`][ruralgov.app.dashboard.session.Comparison] — two such models on the same seed,
  stepped together (compare mode);
* [`network_layout`][ruralgov.app.dashboard.session.network_layout] — fixed positions for (a sample
  of) the villagers, grouped by township, village and lineage: computed once per population,
  never per frame;
* [`network_state`][ruralgov.app.dashboard.session.network_state] — each drawn villager's behaviour
  now;
* [`events`][ruralgov.app.dashboard.session.events] — this step in plain words ("Township 3 left 12
  petitions unanswered");
* [`intervene`][ruralgov.app.dashboard.session.intervene] — the levers a trainer moved, into the
  running county from the next step (no reset), and
  [`scenario_yaml`][ruralgov.app.dashboard.session.scenario_yaml] — the run as a scenario file
  that `ruralgov run` reproduces value for value;
* [`watch_claims`][ruralgov.app.dashboard.session.watch_claims] — where each claim of the
  story stands on this run (against the other side of a comparison where it compares two
  scenarios);
* the CSV, the tables and the download names. The pictures are drawn in
  [`ruralgov.app.dashboard.views`][ruralgov.app.dashboard.views].
"""

from __future__ import annotations

import functools
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd
import yaml

from ruralgov.app.dashboard.labels import (
    control_label,
    format_value,
    measure_label,
    series_header,
    t,
)
from ruralgov.io.scenario import Watch, load_scenario
from ruralgov.model import RuralGovernanceModel
from ruralgov.model.params import AT_START
from ruralgov.model.schema import InputError
from ruralgov.study.stories import claim_difference

__all__ = ["resolve", "Run", "build", "Comparison", "pending", "intervene", "scenario_yaml",
           "Layout", "network_layout", "behaviour", "network_state", "kept_share", "events",
           "series_frame", "series_csv", "campaign_running", "campaign_now",
           "download_stem", "township_table", "department_table",
           "table_html", "ClaimOnScreen", "watch_claims", "claim_text", "scenario_title",
           "MAX_NODES", "MAX_EDGES", "MAX_VILLAGERS"]

#: Villagers and ties drawn at most in the network view (a stratified sample beyond that).
MAX_NODES = 1500
MAX_EDGES = 4000
#: The largest county the dashboard builds (a step must stay well under a second).
MAX_VILLAGERS = 50_000


def resolve(scenario: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every parameter of ``scenario`` with ``overrides`` (validated against the registry, so
    a bad value raises [`InputError`][ruralgov.model.schema.InputError])."""
    params = load_scenario(scenario).resolved(dict(overrides or {}))
    if params["n_villagers"] > MAX_VILLAGERS:
        raise InputError(f"n_villagers = {params['n_villagers']}: the dashboard runs counties "
                         f"of up to {MAX_VILLAGERS:,} villagers; use `ruralgov run` for more")
    return params


class Run(RuralGovernanceModel):
    """The model of a scenario with the dashboard's settings — what Mesa's controller rebuilds
    on reset (``Run(**parameters)``), so a reset replays the same seed."""

    def __init__(self, scenario: str = "baseline", seed: int = 0,
                 overrides: dict[str, Any] | None = None,
                 interventions: list[dict[str, Any]] | None = None):
        # the scenario file's own interventions (e.g. a run downloaded from this page), then
        # the page's: settings() gives back only the page's, so a reset adds no duplicate
        self.file_interventions = tuple(load_scenario(scenario).interventions)
        try:
            params = resolve(scenario, overrides)
            super().__init__(seed=int(seed), interventions=[
                *self.file_interventions, *(interventions or [])], **params)
        except ValueError as err:  # an impossible combination, e.g. more villages than people
            if isinstance(err, InputError):
                raise
            raise InputError(f"{scenario}: {err}") from None
        self.scenario_name = scenario
        self.overrides = dict(overrides or {})
        self.built = params  # the parameters the county was built with
        # the page's play loop steps in a worker thread while a click may intervene: one at a
        # time, so an intervention lands between two steps and is recorded at the step it
        # takes effect (a reset, or `ruralgov run` on the downloaded file, then replays it)
        self.lock = threading.RLock()
        counted = self.step  # Mesa's wrapper: counts the step, then runs it

        def step() -> None:
            with self.lock:
                counted()

        self.step = step

    def intervene(self, settings, step: int | None = None, township: int | None = None):
        with self.lock:
            return super().intervene(settings, step, township)


    def settings(self) -> dict[str, Any]:
        """What rebuilds this run from step 0, interventions included (``Run(**settings)``):
        those made on the page (the scenario file brings its own)."""
        own = list(self.file_interventions)
        page = []
        for iv in self.interventions:
            if iv in own:  # (each of the file's once: the page may repeat one of them)
                own.remove(iv)
            else:
                page.append(iv.as_dict())
        return {"scenario": self.scenario_name, "seed": self.seed,
                "overrides": dict(self.overrides), "interventions": page}


def build(scenario: str, seed: int, overrides: dict[str, Any] | None = None) -> Run:
    """The model of ``scenario`` with the controls' ``overrides`` and ``seed``, at step 0."""
    return Run(scenario=scenario, seed=seed, overrides=overrides)


# ------------------------------------------------------------------ interventions
def _ahead(model: RuralGovernanceModel) -> dict[str, Any]:
    """The county's parameters as the next step will have them (interventions made for it
    included; a township's own are not the county's)."""
    ahead = dict(model.p)
    for iv in model.interventions:
        if iv.step > model.steps and iv.township is None:
            ahead.update(iv.settings)
    return ahead


def pending(model: RuralGovernanceModel, values: dict[str, Any]) -> tuple[dict, dict]:
    """The controls' ``values`` that differ from the running county's: (those an intervention
    can move now, those that need a reset because the county is built with them)."""
    ahead = _ahead(model)
    moved = {k: v for k, v in values.items() if k in ahead and ahead[k] != v}
    now = {k: v for k, v in moved.items() if k not in AT_START}
    return now, {k: v for k, v in moved.items() if k in AT_START}


def intervene(model: RuralGovernanceModel, values: dict[str, Any]) -> dict[str, Any]:
    """Move the levers of ``values`` that differ from the running county's into it from the
    next step, without a reset (those fixed at the start are left for a reset); return what
    was moved (empty if nothing)."""
    now, _ = pending(model, values)
    if now:
        model.intervene(now)
    return now


#: campaign_start that never comes (the registry's highest): a campaign called off before it
#: began.
NEVER = 1_000_000


def campaign_running(model: RuralGovernanceModel) -> bool | None:
    """Whether the county's campaign rule is in force at the next step (None: the county was
    built without one)."""
    p = _ahead(model)
    if not p["campaign"]:
        return None
    return p["campaign_start"] < model.steps + 1 <= p["campaign_start"] + p["campaign_duration"]


def campaign_now(model: RuralGovernanceModel, start: bool) -> dict[str, Any]:
    """Start the county's campaign from the next step (for its ``campaign_duration``), or end
    it after this step, as an intervention (ODD 7.1: ``campaign_start`` and
    ``campaign_duration`` may change at any step; the campaign rule itself is made when the
    county is built). Returns what was moved: nothing when there is no campaign rule or the
    campaign already is as asked."""
    running = campaign_running(model)
    if running is None or running == start:
        return {}
    now, p = model.steps, _ahead(model)
    if start:  # for as long as the county was built with (an earlier end shortened it)
        built = getattr(model, "built", p)["campaign_duration"]
        change = {"campaign_start": now, "campaign_duration": built}
    elif p["campaign_start"] < now:  # under way: it ends with this step
        change = {"campaign_duration": now - p["campaign_start"]}
    else:  # due to begin with the next step: called off
        change = {"campaign_start": NEVER}
    model.intervene(change)
    return change


def intervene_sides(model: Run | Comparison, values: list[dict[str, Any]]) -> list[dict]:
    """[`intervene`][ruralgov.app.dashboard.session.intervene] on a run, or on both sides of a
    comparison at once (``values``: one mapping per side): never between the two sides' steps,
    so both changes take effect at the same step."""
    sides = [model.a, model.b] if isinstance(model, Comparison) else [model]
    with model.lock:
        return [intervene(m, v) for m, v in zip(sides, values)]


#: What a downloaded run adds to its scenario's title (taken off when it is downloaded again).
_RUN_NOTE = re.compile(r" \(dashboard run, seed \d+\)$|（仪表盘运行，随机种子 \d+）$")


def scenario_yaml(model: Run) -> str:
    """This run as a scenario file: the scenario's parameters with the controls' changes, the
    seed, the steps run so far and the interventions. ``ruralgov run`` on it reproduces the
    run value for value (the story's checkable claims are left out: they compare with other
    scenarios over other windows)."""
    sc = load_scenario(model.scenario_name)
    # as far as the run has gone, or to the step of an intervention made for the next step
    # (the file must reach every intervention it lists)
    steps = max([model.steps, 1, *(iv.step for iv in model.interventions)])
    doc: dict[str, Any] = {
        "title": f"{_RUN_NOTE.sub('', sc.title)} (dashboard run, seed {model.seed})",
        "story": sc.story,
        "steps": steps,
        "seed": model.seed,
        "parameters": {**sc.parameters, **model.overrides},
    }
    if sc.network:
        doc["network"] = {k: str(v) for k, v in sc.network.items()}
    if model.interventions:
        doc["interventions"] = [iv.as_dict() for iv in model.interventions]
    if sc.title_zh:
        title_zh = _RUN_NOTE.sub("", sc.title_zh)
        doc["zh"] = {"title": f"{title_zh}（仪表盘运行，随机种子 {model.seed}）",
                     "story": sc.story_zh}
    head = (f"# ruralgov dashboard run of {sc.name}: `ruralgov run <this file>` reproduces it\n")
    return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=96)


class Comparison(mesa.Model):
    """Two settings (A and B) of a county on the same seed, stepped together (Mesa's controller
    steps this model; each side is a full model)."""

    def __init__(self, seed: int = 0, a: dict | None = None, b: dict | None = None):
        super().__init__(seed=int(seed))
        self.a = Run(seed=seed, **(a or {}))
        self.b = Run(seed=seed, **(b or {}))
        self.lock = threading.RLock()  # both sides step, and take interventions, together

    def step(self) -> None:
        with self.lock:
            self.a.step()
            self.b.step()
            self.running = self.a.running and self.b.running

    def settings(self) -> dict[str, Any]:
        """What rebuilds both sides from step 0, interventions included."""
        a, b = ({k: v for k, v in side.settings().items() if k != "seed"}
                for side in (self.a, self.b))
        return {"seed": self.a.seed, "a": a, "b": b}


# ------------------------------------------------------------------ what to watch
@dataclass(frozen=True)
class ClaimOnScreen:
    """One claim of a story (the scenario's ``watch`` list) on this run: its words, where it
    stands and the run's evidence for it in the claimed direction (positive supports it, as
    [`claim_difference`][ruralgov.study.stories.claim_difference] computes it)."""

    side: str  # "A" or "B" in compare mode, "" for one county
    claim: Watch
    text: str
    #: ``holds``/``fails`` (its windows complete), ``so_far`` (inside them), ``waiting``
    #: (before them) or ``compare`` (it compares with a scenario not running beside it)
    state: str
    difference: float
    changed: bool  # the run's settings differ from the scenario's: not the story's premise

    def status(self, lang: str = "en") -> str:
        """Where the claim stands, in words."""
        d = "" if math.isnan(self.difference) else f"{self.difference:+.3g}"
        words = t(f"st_{self.state}", lang).format(
            d=d or "—", a=self.claim.steps[0], b=self.claim.last_step,
            than=scenario_title(self.claim.than, lang) if self.claim.than else "")
        return words + (f" · {t('st_changed', lang)}" if self.changed else "")


@functools.lru_cache(maxsize=64)
def _watch(name: str) -> tuple[Watch, ...]:
    return tuple(load_scenario(name).watch)


@functools.lru_cache(maxsize=64)
def scenario_title(name: str, lang: str = "en") -> str:
    """A scenario's title in ``lang``."""
    return load_scenario(name).text(lang)[0]


def claim_text(w: Watch, lang: str = "en") -> str:
    """A claim in words, in ``lang``."""
    a, b = w.steps
    values = {"measure": measure_label(w.measure, lang), "expect": t(f"exp_{w.expect}", lang),
              "a": a, "b": b}
    if w.than:
        return t("watch_than", lang).format(than=scenario_title(w.than, lang), **values)
    return t("watch_from", lang).format(s0=w.start[0], s1=w.start[1], **values)


def _changed_by_page(model: Run) -> bool:
    """Whether the page changed the run from its scenario (levers, or interventions beyond
    the file's own)."""
    return bool(model.overrides or model.settings()["interventions"])


def _plain(model: Run, name: str) -> bool:
    """Whether ``model`` is a run of the scenario ``name`` as its file sets it."""
    return model.scenario_name == name and not _changed_by_page(model)


def watch_claims(models: dict[str, Run], lang: str = "en") -> list[ClaimOnScreen]:
    """Every claim of the running scenarios' stories, on this run: a claim that compares with
    another scenario is judged against the other side of a comparison when that side is a run
    of that scenario as its file sets it (both sides share the seed)."""
    out = []
    frames: dict[int, pd.DataFrame] = {}  # each run's series built once (on every step)

    def series(m) -> pd.DataFrame:
        if id(m) not in frames:
            frames[id(m)] = m.series()
        return frames[id(m)]

    for side, m in models.items():
        changed = _changed_by_page(m)
        for w in _watch(m.scenario_name):
            other = next((o for s, o in models.items() if s != side and _plain(o, w.than)),
                         None) if w.than else None
            if w.than and other is None:
                state, d = "compare", math.nan
            elif m.steps < w.steps[0]:  # (a "from" window comes before it)
                state, d = "waiting", math.nan
            else:
                d = claim_difference(w, series(m), series(other) if other else None)
                state = ("so_far" if m.steps < w.last_step
                         else "holds" if d > 0 else "fails")
            out.append(ClaimOnScreen(side, w, claim_text(w, lang), state, float(d), changed))
    return out


# ------------------------------------------------------------------ network view
@dataclass
class Layout:
    nodes: np.ndarray  # indices of the villagers drawn
    xy: np.ndarray  # their positions (len(nodes) x 2)
    edges: np.ndarray  # pairs of positions in ``nodes`` (E x 2)
    township_xy: np.ndarray  # label positions of the townships
    sampled: bool


def network_layout(model: RuralGovernanceModel, max_nodes: int = MAX_NODES,
                   max_edges: int = MAX_EDGES) -> Layout:
    """Townships on a circle, each township's villages on a circle around it, each village's
    villagers on a sunflower spiral ordered by lineage — deterministic, no randomness and no
    force-directed layout. Beyond ``max_nodes`` villagers an evenly spaced sample (villagers
    are ordered by township, village and lineage, so the sample is stratified) is drawn with
    the ties among them."""
    n = model.n_villagers
    nodes = (np.unique(np.linspace(0, n - 1, max_nodes).round().astype(np.int64))
             if n > max_nodes else np.arange(n))
    n_t = model.n_townships
    big = 1.0 if n_t > 1 else 0.0
    t_angle = 2 * np.pi * np.arange(n_t) / max(n_t, 1)
    township_xy = np.c_[big * np.cos(t_angle), big * np.sin(t_angle)]
    vt = model.population.village_township
    per_t = np.bincount(vt, minlength=n_t)
    rank = np.zeros(len(vt), dtype=np.int64)  # a village's rank within its township
    for k in range(n_t):
        rank[vt == k] = np.arange(per_t[k])
    r_t = 0.9 * math.sin(math.pi / max(n_t, 2)) if n_t > 1 else 1.0  # township radius
    v_angle = 2 * np.pi * rank / np.maximum(per_t[vt], 1)
    r_v = np.where(per_t[vt] > 1, 0.55 * r_t, 0.0)
    village_xy = township_xy[vt] + np.c_[r_v * np.cos(v_angle), r_v * np.sin(v_angle)]
    # villagers of a village on a sunflower spiral, in order (lineages are contiguous)
    village = model.structure.village[nodes]
    order_in_village = np.zeros(nodes.size, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(village)) + 1]
    lengths = np.diff(np.r_[starts, nodes.size])
    for s, ln in zip(starts, lengths):
        order_in_village[s:s + ln] = np.arange(ln)
    size = np.bincount(village, minlength=model.n_villages)[village]
    r_vil = 0.4 * r_t * math.sin(math.pi / max(per_t.max(), 2)) + 0.02
    rad = r_vil * np.sqrt((order_in_village + 0.5) / np.maximum(size, 1))
    ang = order_in_village * np.pi * (3 - math.sqrt(5))  # the golden angle
    xy = village_xy[village] + np.c_[rad * np.cos(ang), rad * np.sin(ang)]
    # ties among the drawn villagers
    adj = model.population.adjacency
    sub = adj[nodes][:, nodes].tocoo()
    keep = sub.row < sub.col
    edges = np.c_[sub.row[keep], sub.col[keep]]
    if len(edges) > max_edges:
        edges = edges[np.linspace(0, len(edges) - 1, max_edges).round().astype(np.int64)]
    return Layout(nodes=nodes, xy=xy, edges=edges, township_xy=township_xy,
                  sampled=n > max_nodes)


def behaviour(model: RuralGovernanceModel, nodes: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """The villagers ``nodes`` now, in one pass over their rules: (the share of their live
    rules they keep, 1 where none is live; their state: 0 keeps every live rule, 1 evades
    one, 2 has a petition pending, 3 protests — the highest applies). The share colours the
    network, so that the picture agrees with the compliance line: the county's compliance is
    its mean weighted by live rules."""
    rules, villagers = model.rules, model.villagers
    live = rules.live[:, nodes]
    n_live = live.sum(axis=0)
    kept = (rules.comply[:, nodes] & live).sum(axis=0)
    share = np.divide(kept, n_live, out=np.ones(len(nodes)), where=n_live > 0)
    state = np.where(kept < n_live, 1, 0)
    state = np.where(villagers.pet_age[nodes] >= 0, 2, state)
    return share, np.where(villagers.protesting[nodes], 3, state)


def network_state(model: RuralGovernanceModel, nodes: np.ndarray) -> np.ndarray:
    """The state of the villagers ``nodes`` now (see
    [`behaviour`][ruralgov.app.dashboard.session.behaviour])."""
    return behaviour(model, nodes)[1]


def kept_share(model: RuralGovernanceModel, nodes: np.ndarray) -> np.ndarray:
    """The share of their live rules the villagers ``nodes`` keep now (see
    [`behaviour`][ruralgov.app.dashboard.session.behaviour])."""
    return behaviour(model, nodes)[0]


def series_frame(model: RuralGovernanceModel, lang: str = "en") -> pd.DataFrame:
    """The run's per-step series with its scenario and seed on every row (tidy, and it says
    where it came from), and in ``intervention`` the levers moved from that step on. In
    Chinese (``lang="zh"``) the cells too: the scenario by its Chinese title, the levers by
    their Chinese names, yes/no as 1/0."""
    s = model.series()
    s.insert(0, "seed", model.seed)
    name = getattr(model, "scenario_name", "")
    s.insert(0, "scenario", scenario_title(name, "zh") if lang == "zh" and name else name)
    moved: dict[int, list[str]] = {}
    for iv in model.interventions:
        if lang == "zh":
            where = "" if iv.township is None else f"乡镇 {iv.township}："
            items = (f"{control_label(k, 'zh')}={format_value(v, 'zh')}"
                     for k, v in iv.settings.items())
        else:
            where = "" if iv.township is None else f"township {iv.township}: "
            items = (f"{k}={v}" for k, v in iv.settings.items())
        moved.setdefault(iv.step, []).extend(where + x for x in items)
    s["intervention"] = ["; ".join(moved.get(step, ())) for step in s["step"]]
    if lang == "zh":  # (True/False are English words)
        flags = s.select_dtypes(bool).columns
        s[flags] = s[flags].astype(int)
    return s


def series_csv(models: RuralGovernanceModel | dict[str, RuralGovernanceModel],
               lang: str = "en") -> str:
    """The series as CSV: one run, or both sides of a comparison in one table with a ``side``
    column (A, B). ``lang="zh"``: the column names and cells in Chinese."""
    if not isinstance(models, dict):
        models = {"": models}
    frames = []
    for name, m in models.items():
        frame = series_frame(m, lang)
        if len(models) > 1:
            frame.insert(0, "side", name)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    if lang == "zh":
        out = out.rename(columns=lambda c: series_header(c, "zh"))
    return out.to_csv(index=False)


#: What a downloaded file's name adds to the scenario's (taken off when it is loaded again).
_STEM = re.compile(r"^ruralgov-(?P<name>.+?)-(seed\d+-step\d+|种子\d+-第\d+期)(-[AB])?$")


def download_stem(models: dict[str, RuralGovernanceModel], lang: str = "en") -> str:
    """A file name that says what was run: scenario(s), seed and step, in ``lang`` (a run
    loaded from a downloaded file is named by its scenario, not by the file: no doubled
    prefix)."""
    first = next(iter(models.values()))

    def name(m) -> str:
        stem = Path(getattr(m, "scenario_name", "run")).stem
        match = _STEM.match(stem)
        return match["name"] if match else stem

    names = "-vs-".join(dict.fromkeys(name(m) for m in models.values()))
    if lang == "zh":
        return f"ruralgov-{names}-种子{first.seed}-第{first.steps}期"
    return f"ruralgov-{names}-seed{first.seed}-step{first.steps}"


# ------------------------------------------------------------------ events
def events(model: RuralGovernanceModel, lang: str = "en", backlog_min: int = 5
           ) -> list[str]:
    """This step's notable events in plain words."""
    series = model.observer.rows  # public: the observer's recorded rows
    if model.steps == 0 or not series:
        return []
    zh = lang == "zh"
    row = series[-1]
    out: list[str] = []
    if model.collect_detail:
        for r in model.detail("townships", latest=True).itertuples():
            if r.backlog >= backlog_min:
                out.append(f"乡镇{r.township + 1}有{int(r.backlog)}件信访未答复" if zh else
                           f"Township {r.township + 1} left {int(r.backlog)} petitions "
                           "unanswered")
        vil = model.detail("villages", latest=True)
        for r in vil[vil.protesters >= model.p["protest_event_min"]].itertuples():
            out.append(f"乡镇{r.township + 1}村{r.village + 1}有{int(r.protesters)}名村民抗议"
                       if zh else f"{int(r.protesters)} villagers of Village {r.village + 1} "
                       f"(Township {r.township + 1}) protested")
    v_state = model.villagers
    county = (v_state.pet_age >= 0) & (v_state.pet_level == 1)
    if county.any():
        per_village = np.bincount(model.structure.village[county], minlength=model.n_villages)
        v = int(per_village.argmax())
        if per_village[v] >= backlog_min:
            out.append(f"村{v + 1}有{int(per_village[v])}名村民向县里上访" if zh else
                       f"{int(per_village[v])} villagers of Village {v + 1} have petitioned "
                       "the county")
    if row.get("petitions_collective", 0):
        n = int(row["petitions_collective"])
        out.append(f"{n}起集体上访" if zh else f"{n} collective petitions (集体上访) filed")
    if row.get("sanctions", 0):
        out.append(f"劝阻{int(row['persuasions'])}起，警告{int(row['warnings'])}起，处罚"
                   f"{int(row['sanctions'])}起" if zh else
                   f"{int(row['persuasions'])} persuaded, {int(row['warnings'])} warned, "
                   f"{int(row['sanctions'])} sanctioned (劝阻 → 警告 → 处罚)")
    for iv in model.interventions:
        if iv.step == model.steps:
            moved = ("，" if zh else ", ").join(
                f"{control_label(k, lang)} = {format_value(v, lang)}"
                for k, v in iv.settings.items())
            out.append(f"干预：{moved}" if zh else f"Intervention: {moved}")
    if row.get("campaign_active") and (len(series) < 2
                                       or not series[-2].get("campaign_active")):
        out.append("运动开始" if zh else "The campaign began")
    return [f"[{model.steps}] {e}" for e in out]


def township_table(model: RuralGovernanceModel, lang: str = "en") -> pd.DataFrame:
    """The townships now: capacity use, backlog, enforcement effort, reprimand pressure."""
    d = model.detail("townships", latest=True)
    if d.empty:
        return d
    return pd.DataFrame({
        t("col_township", lang): d.township + 1,
        t("col_self_interest", lang): d.self_interest.round(2),
        t("col_capacity_use", lang): d.capacity_use.round(2),
        t("col_backlog", lang): d.backlog.astype(int),
        t("col_escalations", lang): d.escalations.astype(int),
        t("col_effort", lang): d.effort.round(2),
        t("col_pressure", lang): d.pressure.round(2),
        t("col_true_reported", lang): [f"{a:.2f} / {b:.2f}" for a, b in
                                       zip(d.true_compliance, d.reported_compliance)]})


def department_table(model: RuralGovernanceModel, lang: str = "en") -> pd.DataFrame:
    """The county departments now: compliance with their rules, escalations and answers."""
    d = model.detail("departments", latest=True)
    if d.empty:
        return d
    return pd.DataFrame({
        t("col_department", lang): d.department + 1,
        t("col_dept_compliance", lang): d.compliance.round(2),
        t("col_received", lang): d.escalations_received.astype(int),
        t("col_answered", lang): d.escalations_answered.astype(int),
        t("col_backlog", lang): d.backlog.astype(int)})


def table_html(frame: pd.DataFrame, lang: str = "en", max_rows: int = 30) -> str:
    """A small table as HTML in the page's language (no English pager around it)."""
    shown = frame.head(max_rows)
    html = shown.to_html(index=False, border=0, classes="rg-table", na_rep="–")
    if len(frame) > max_rows:
        html += (f"<div class='rg-note'>"
                 f"{t('rows_more', lang).format(shown=max_rows, total=len(frame))}</div>")
    return html
