"""Scenario files: a title, a story a trainer can read out, and the parameters that differ
from the defaults.

A scenario is YAML, read by YAML's safe loader only, with bounds (files are data; see
[`load_yaml`][ruralgov.io.scenario.load_yaml]):

    title: Fragmented departments (文件打架)
    story: >
      Eight county departments issue rules to the same townships without coordinating...
    steps: 200            # optional, default 200
    seed: 7               # optional; the command line's --seed wins
    parameters:           # only what differs from the defaults
      n_departments: 8
      coordination: 0.0
    network:              # optional field data instead of the generated county
      villagers: villagers.csv   # paths relative to this file
      edges: edges.csv           # or  graphml: county.graphml
    zh:                   # optional: the title and story in Chinese (a literal block: the
      title: 条块分割（文件打架）   # lines are joined without spaces)
      story: |
        八个县级部门向同一批乡镇发文……
    interventions:        # optional: levers moved while the county runs (ODD 7.1)
      - {step: 61, set: {responsiveness: 0.9}}   # from the start of step 61 on
      - {step: 73, township: 2, set: {suppression: 0.5}}  # one township head's own lever
    watch:                # optional: what the story claims, checked by `ruralgov stories`
      - {measure: compliance, expect: lower, than: baseline, steps: [1, 12]}
      - {measure: legitimacy_mean, expect: falls, from: [1, 12], steps: [85, 96]}

Every problem is reported as one [`InputError`][ruralgov.model.schema.InputError] naming the file,
the field and what is allowed. A scenario given by name is looked up as
[`ruralgov.io.finder`][ruralgov.io.finder] says.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import ConfigDict, Field

from ruralgov.io.finder import check_path_text, data_dirs, find_named, named_files
from ruralgov.model.params import GENERATOR, REGISTRY
from ruralgov.model.schema import (
    MAX_STEPS,
    InputError,
    Intervention,
    check_combinations,
    close_names,
    format_pydantic_error,
    validate_interventions,
    validate_params,
)

__all__ = ["Scenario", "Watch", "load_scenario", "find_scenario", "list_scenarios",
           "parse_overrides", "data_dirs", "find_named", "read_spec", "file_kind"]



class _Network(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    villagers: str | None = Field(default=None, min_length=1)
    edges: str | None = Field(default=None, min_length=1)
    graphml: str | None = Field(default=None, min_length=1)

    @pydantic.model_validator(mode="after")
    def _one_source(self):
        if self.graphml and (self.villagers or self.edges):
            raise ValueError("give either graphml, or villagers and edges, not both")
        if not self.graphml and not (self.villagers and self.edges):
            raise ValueError("give graphml, or both villagers and edges")
        return self


_Window = tuple[pydantic.StrictInt, pydantic.StrictInt]
EXPECT = ("higher", "lower", "rises", "falls")


class _WatchFile(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    measure: str = Field(min_length=1)
    expect: Literal["higher", "lower", "rises", "falls"]
    steps: _Window
    than: str | None = Field(default=None, min_length=1)
    start: _Window | None = Field(default=None, alias="from")

    @pydantic.model_validator(mode="after")
    def _consistent(self):
        for name, w in (("steps", self.steps), ("from", self.start)):
            if w is not None and not 1 <= w[0] <= w[1]:
                raise ValueError(f"{name} must be [first, last] with 1 <= first <= last; got "
                                 f"{list(w)}")
        if self.expect in ("higher", "lower") and (self.than is None or self.start):
            raise ValueError(f"expect: {self.expect} compares with another scenario: give "
                             "than (a scenario name), not from")
        if self.expect in ("rises", "falls") and (self.start is None or self.than):
            raise ValueError(f"expect: {self.expect} compares two windows of this scenario: "
                             "give from ([first, last] steps), not than")
        return self


class _Translation(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    story: str = Field(min_length=1)


class _InterventionFile(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: pydantic.StrictInt = Field(ge=1, le=MAX_STEPS)
    township: pydantic.StrictInt | None = Field(default=None, ge=0)
    settings: dict[str, Any] = Field(alias="set", min_length=1)


class _ScenarioFile(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    story: str = Field(min_length=1)
    steps: pydantic.StrictInt = Field(default=200, ge=1, le=MAX_STEPS)
    seed: pydantic.StrictInt | None = Field(default=None, ge=0, lt=2**63)
    parameters: dict[str, Any] = Field(default_factory=dict)
    network: _Network | None = None
    interventions: list[_InterventionFile] = Field(default_factory=list, max_length=1000)
    watch: list[_WatchFile] = Field(default_factory=list, max_length=50)
    zh: _Translation | None = None


@dataclass(frozen=True)
class Watch:
    """One claim of a scenario's story, in a form that can be checked
    ([`ruralgov.study.stories`][ruralgov.study.stories]): the mean of ``measure`` (a column of
    the series) over the steps ``steps`` is ``higher``/``lower`` than in the scenario
    ``than`` on the same seed, or ``rises``/``falls`` from the window ``start`` (``from:`` in
    the file) to ``steps``."""

    measure: str
    expect: str
    steps: tuple[int, int]
    than: str | None = None
    start: tuple[int, int] | None = None

    @property
    def sign(self) -> int:
        """+1 if the claim is that the measure is higher (or rises), -1 if lower (falls)."""
        return 1 if self.expect in ("higher", "rises") else -1

    @property
    def last_step(self) -> int:
        return max(self.steps[1], self.start[1] if self.start else 0)

    def describe(self) -> str:
        a, b = self.steps
        if self.than:
            return f"`{self.measure}` {self.expect} than in `{self.than}`, steps {a}–{b}"
        s0, s1 = self.start
        return f"`{self.measure}` {self.expect} from steps {s0}–{s1} to steps {a}–{b}"


@dataclass
class Scenario:
    """A loaded, validated scenario."""

    name: str
    title: str
    story: str
    steps: int = 200
    seed: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # only the changed ones
    path: Path | None = None
    sha256: str | None = None
    network: dict[str, Path] | None = None
    #: sha256 of each field-data file when the scenario was loaded ("villagers", "edges",
    #: "graphml"): part of an experiment's definition and of every run's manifest
    network_sha256: dict[str, str] = field(default_factory=dict)
    #: what the story claims, checked over seeds by ``ruralgov stories``
    watch: list[Watch] = field(default_factory=list)
    #: levers moved while the county runs (the ``interventions`` list), in step order
    interventions: tuple[Intervention, ...] = ()
    #: the title and story in Chinese (the ``zh`` block), "" if the file has none
    title_zh: str = ""
    story_zh: str = ""

    def text(self, lang: str = "en") -> tuple[str, str]:
        """(title, story) in ``lang`` ("en" or "zh"; English where there is no Chinese)."""
        if lang == "zh" and self.title_zh:
            return self.title_zh, self.story_zh
        return self.title, self.story

    def check_inputs(self) -> None:
        """Raise [`InputError`][ruralgov.model.schema.InputError] if a field-data file has
        changed since the scenario was loaded (results would mix two counties)."""
        for key, file in (self.network or {}).items():
            now = file_sha256(file) if file.is_file() else "missing"
            if now != self.network_sha256.get(key):
                raise InputError(f"{self.path or self.name}: network.{key}: {file} changed "
                                 "since the scenario was loaded (its sha256 differs); results "
                                 "from two versions of a file are never mixed")

    def resolved(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every parameter's value: defaults, then the scenario's, then ``overrides``."""
        values = {**self.parameters, **(overrides or {})}
        self.check_structure(values)
        out = validate_params(values, source=str(self.path or self.name), prefix="parameters")
        check_combinations(out, source=str(self.path or self.name), prefix="parameters")
        return out

    def check_structure(self, values: dict[str, Any], where: str = "parameters") -> None:
        """With field data the files give the county: setting a parameter of the population
        generator would do nothing while the manifest recorded it. Refused, naming it."""
        if not self.network:
            return
        clash = sorted(set(values) & set(GENERATOR))
        if clash:
            raise InputError(f"{self.path or self.name}: {where}: {', '.join(clash)} "
                             "has no effect with field data (the network files give the "
                             "villagers, townships, villages and ties); remove it, or edit the "
                             "files")

    @property
    def summary_line(self) -> str:
        """The first sentence of the story."""
        first = " ".join(self.story.split()).split(". ")[0]
        return first if first.endswith(".") else first + "."


def list_scenarios() -> list[Scenario]:
    """Every scenario found by name, first occurrence wins, sorted by name."""
    return [load_scenario(f) for f in named_files("scenario").values()]


def find_scenario(name_or_path: str | Path) -> Path:
    """The file of a scenario given by path or by name (``baseline``)."""
    return find_named(name_or_path, "scenario")


MAX_YAML_VALUES = 100_000
"""The most values (scalars, lists, mappings) a YAML file may expand to, aliases counted as
often as they are used; a scenario or experiment file has a few hundred."""

MAX_YAML_DEPTH = 32
"""The deepest nesting a YAML file may have."""

MAX_YAML_BYTES = 2_000_000
"""The largest scenario, experiment or targets file read (field data are CSV or GraphML files
of their own): a file of that kind has a few kilobytes."""

#: Numbers as people write them, in decimal only: YAML 1.1 would read 0400 as octal 256, 0x100
#: and 0b1 as hexadecimal and binary, 3:20 as sexagesimal 200 — silently other values.
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""", re.X)
_NUMBERS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, stricter: a key given twice is an error (not "last wins"), keys are
    plain values (not lists or mappings), numbers are decimal (``0400`` is text, not octal
    256), and ``1e-1`` is a number (YAML 1.1 wants ``1.0e-1``; people write ``1e-1``)."""

    yaml_implicit_resolvers = {k: [(tag, rx) for tag, rx in v if tag not in _NUMBERS]
                               for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            mark = key_node.start_mark
            try:
                hash(key)
            except TypeError:
                raise InputError(f"{mark.name}: line {mark.line + 1}: a key must be a name or "
                                 f"a number, not a {type(key).__name__}") from None
            if key in seen:
                raise InputError(f"{mark.name}: line {mark.line + 1}: key {str(key)[:80]!r} "
                                 f"is given twice (first at line {seen[key] + 1}); give each "
                                 "key once")
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _expanded_size(root: yaml.Node, path: Path) -> None:
    """Refuse a document that expands, through aliases, to more than MAX_YAML_VALUES values or
    nests deeper than MAX_YAML_DEPTH (a few hundred bytes of nested aliases can stand for
    billions of values), or that refers to itself."""
    size: dict[int, int] = {}

    def count(node: yaml.Node, depth: int, stack: set[int]) -> int:
        if depth > MAX_YAML_DEPTH:
            raise InputError(f"{path}: nested more than {MAX_YAML_DEPTH} levels deep (line "
                             f"{node.start_mark.line + 1})")
        key = id(node)
        if key in stack:
            raise InputError(f"{path}: an alias refers to itself (line "
                             f"{node.start_mark.line + 1})")
        if key not in size:
            stack.add(key)
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = []
            size[key] = 1 + sum(count(c, depth + 1, stack) for c in children)
            stack.discard(key)
            if size[key] > MAX_YAML_VALUES:
                raise InputError(f"{path}: expands to more than {MAX_YAML_VALUES:,} values "
                                 "(through aliases); scenario and experiment files are small")
        return size[key]

    count(root, 0, set())


def _nesting(text: str, path: Path | str) -> None:
    """Refuse a document nested deeper than MAX_YAML_DEPTH from its stream of parse events,
    before any tree is built: PyYAML's parser is a loop, its composer recursive (a document
    nested a few hundred levels deep would end in a RecursionError while building it)."""
    loader = yaml.SafeLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise InputError(f"{path}: nested more than {MAX_YAML_DEPTH} levels deep "
                                     f"(line {event.start_mark.line + 1})")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def load_yaml(text: str, path: Path | str = "<text>") -> Any:
    """A YAML document as Python values, read safely and with bounds: no key twice, bounded
    expansion of aliases and nesting ([`MAX_YAML_VALUES`][ruralgov.io.scenario.MAX_YAML_VALUES],
    [`MAX_YAML_DEPTH`][ruralgov.io.scenario.MAX_YAML_DEPTH]), ``1e-1`` a number."""
    _nesting(text, path)
    loader = _StrictLoader(text)
    loader.name = str(path)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, Path(path))
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_spec(path: Path, model: type[pydantic.BaseModel], what: str, kind: str | None = None
              ) -> tuple[pydantic.BaseModel, bytes]:
    """Read a YAML file of the given kind (``what``, e.g. "a scenario must be a mapping with
    title, story and parameters") into the pydantic ``model``; return it and the raw bytes.

    ``kind`` ([`file_kind`][ruralgov.io.scenario.file_kind]): a file that does not fit the
    schema and has the keys of another kind is named as that kind, in one line.

    Raises:
        InputError: unreadable, not UTF-8, malformed YAML, not a mapping, another kind of
            file, or invalid fields — naming the file, the field and what is allowed.
    """
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise InputError(f"{path}: {size:,} bytes; a file of this kind has at most "
                             f"{MAX_YAML_BYTES:,} (field data go in their own CSV or GraphML "
                             "files)")
        raw = path.read_bytes()
        doc = load_yaml(raw.decode("utf-8"), path)
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"{path}: malformed YAML{where}: {problem}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: {what}; got {type(doc).__name__}")
    try:
        return model(**{str(k): v for k, v in doc.items()}), raw
    except pydantic.ValidationError as err:
        found = file_kind(doc)
        if kind and found not in (None, kind):
            raise InputError(f"{path}: this is {_A[found]} file, not {_A[kind]} file "
                             f"({what})") from None
        raise InputError(format_pydantic_error(
            err, str(path), allowed_keys=tuple(model.model_fields), model=model)) from None


#: the keys that mark each kind of file: all of them (a file is recognised as that kind) and
#: any of them (a file with one of them, maybe a key mistyped, is checked as that kind)
_SIGNATURES = {  # (a search has replications too: it is recognised first)
    "search": ({"levers", "objectives"}, {"levers", "objectives", "constraints"}),
    "experiment": ({"factors"}, {"factors", "design", "replications"}),
    "targets": ({"priors", "targets"}, {"priors", "targets", "abc"}),
    "robustness": ({"ranges", "root_seeds"}, {"ranges", "root_seeds", "hypothesis_profile"}),
    "validation": ({"model", "checks"}, {"model", "checks", "paper"}),
    "scenario": ({"story"}, {"story"}),
}


def file_kind(doc: dict, loose: bool = False) -> str | None:
    """What kind of file a YAML mapping is, from its keys: ``experiment``, ``targets``,
    ``robustness``, ``validation`` or ``scenario`` when all the keys that mark that kind are
    there, else None; with ``loose``, the first kind any of whose marking keys is there (a file
    with a key mistyped is still checked as what it nearly is), else ``scenario``."""
    keys = set(doc)
    for kind, (every, some) in _SIGNATURES.items():
        if (keys & some) if loose else every <= keys:
            return kind
    return "scenario" if loose else None


_A = {"experiment": "an experiment", "targets": "a calibration targets",
      "robustness": "a robustness spec", "validation": "a classic-model validation",
      "search": "a search",
      "scenario": "a scenario"}


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load and validate a scenario file (by path or name)."""
    path = find_scenario(name_or_path)
    spec, raw = read_spec(path, _ScenarioFile,
                          "a scenario must be a mapping with title, story and parameters",
                          kind="scenario")
    params = {str(k): v for k, v in spec.parameters.items()}
    validate_params(params, source=str(path), prefix="parameters")
    network = None
    if spec.network is not None:
        network = {}
        for key in ("villagers", "edges", "graphml"):
            value = getattr(spec.network, key)
            if value:
                where = f"{path}: network.{key}"
                file = (path.parent / check_path_text(value, where)).resolve()
                if not file.exists():
                    raise InputError(f"{where}: no such file {file}")
                if not file.is_file():
                    raise InputError(f"{where}: {file} is "
                                     + ("a folder" if file.is_dir() else "not a regular file")
                                     + "; give a CSV or GraphML file")
                network[key] = file
    return Scenario(name=path.stem, title=spec.title.strip(), story=" ".join(spec.story.split()),
                    steps=spec.steps, seed=spec.seed, parameters=params, path=path,
                    sha256=hashlib.sha256(raw).hexdigest(), network=network,
                    network_sha256={k: file_sha256(f) for k, f in (network or {}).items()},
                    watch=_watch(spec, path), interventions=_interventions(spec, path),
                    title_zh=spec.zh.title.strip() if spec.zh else "",
                    story_zh="".join(line.strip() for line in spec.zh.story.splitlines())
                    if spec.zh else "")


def _interventions(spec: _ScenarioFile, path: Path) -> tuple[Intervention, ...]:
    """The interventions, each within the scenario's steps and moving only parameters read
    every step."""
    for i, iv in enumerate(spec.interventions):
        if iv.step > spec.steps:
            raise InputError(f"{path}: interventions[{i}].step: {iv.step} comes after the "
                             f"scenario's last step ({spec.steps}); allowed: 1 to {spec.steps}")
    return validate_interventions(
        [{"step": iv.step, "set": iv.settings}
         | ({} if iv.township is None else {"township": iv.township})
         for iv in spec.interventions], source=str(path))


def _watch(spec: _ScenarioFile, path: Path) -> list[Watch]:
    """The story's claims, checked against the series' columns, the scenario's length and the
    scenarios it is compared with."""
    from ruralgov.model.observe import SERIES

    columns = [r.name for r in SERIES]
    out = []
    for i, w in enumerate(spec.watch):
        where = f"{path}: watch[{i}]"
        if w.measure not in columns:
            near = close_names(w.measure, columns)
            hint = f" (did you mean {near}?)" if near else ""
            raise InputError(f"{where}.measure: {w.measure!r} is not a measure of the series"
                             f"{hint}; allowed: the columns of docs/ODD.md §4.11")
        last = max(w.steps[1], w.start[1] if w.start else 0)
        if last > spec.steps:
            raise InputError(f"{where}: the claim reaches step {last}, but the scenario runs "
                             f"{spec.steps} steps; allowed: windows within 1..{spec.steps}")
        if w.than is not None:
            try:
                find_scenario(w.than)
            except InputError:
                raise InputError(f"{where}.than: no scenario named {w.than!r}; `ruralgov "
                                 "scenarios` lists them") from None
        out.append(Watch(w.measure, w.expect, tuple(w.steps), w.than,
                         tuple(w.start) if w.start else None))
    return out


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes (read in chunks: field data can be large)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_overrides(items: list[str] | None, source: str = "--set") -> dict[str, Any]:
    """Parse ``key=value`` strings (values in YAML syntax) and validate their names and types."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"{source} {item!r}: expected key=value, e.g. --set coordination=0.8")
        try:
            parsed = load_yaml(value, f"{source} {key}") if value.strip() else None
        except yaml.YAMLError:
            parsed = value
        if key not in REGISTRY:
            near = close_names(key)
            hint = f" (did you mean {near}?)" if near else ""
            raise InputError(f"{source} {key}: unknown parameter{hint}; `ruralgov params` lists "
                             "the allowed names")
        out[key] = parsed
    if out:
        validate_params(out, source=source)
    return out
