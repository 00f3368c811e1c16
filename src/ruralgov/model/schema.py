"""Typed, bounded validation of parameter values, generated from the registry.

One [`InputError`][ruralgov.model.schema.InputError] message names the source (file or ``--set``),
the field path, the value given and what is allowed. The command line prints it and exits with
status 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from pydantic import ConfigDict, Field

from ruralgov.model.params import AT_START, PARAMS, REGISTRY, TOWNSHIP_LEVERS

__all__ = ["InputError", "DiskFull", "MAX_STEPS", "ParamsModel", "validate_params",
           "check_combinations",
           "format_pydantic_error", "close_names", "short_repr", "Intervention",
           "validate_interventions", "check_townships"]


MAX_STEPS = 1_000_000
"""The most steps a run may have (a scenario file, an experiment, ``--steps``)."""


class InputError(ValueError):
    """Bad input: a file, a field or a value that is not allowed. The message says which."""


class DiskFull(OSError):
    """The disk (or the user's quota) filled while results were written: nothing partial was
    kept; free space and run the same command again to go on (the command line: one line,
    exit status 1)."""


def _field(p):
    if p.type == "bool":
        return (pydantic.StrictBool, Field(default=p.default, description=p.doc))
    if p.type == "int":
        return (pydantic.StrictInt, Field(default=p.default, ge=p.lo, le=p.hi, description=p.doc))
    # floats accept ints (YAML 1 for 1.0) but not booleans or strings
    return (float, Field(default=p.default, ge=p.lo, le=p.hi, description=p.doc, strict=False))


class _Base(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @pydantic.field_validator("*", mode="before")
    @classmethod
    def _no_bool_or_str_for_numbers(cls, value: Any, info: pydantic.ValidationInfo) -> Any:
        p = REGISTRY.get(info.field_name)
        if p is not None and p.type != "bool" and isinstance(value, (bool, str)):
            raise ValueError(f"expected {p.allowed()}, got {type(value).__name__} {value!r}")
        return value


ParamsModel: type[pydantic.BaseModel] = pydantic.create_model(
    "ParamsModel", __base__=_Base, **{p.name: _field(p) for p in PARAMS}
)


def _allowed(loc: tuple) -> str:
    name = loc[-1] if loc else ""
    p = REGISTRY.get(str(name))
    return p.allowed() if p is not None else ""


def format_pydantic_error(err: pydantic.ValidationError, source: str, prefix: str = "",
                          allowed_keys: tuple[str, ...] | None = None,
                          model: type[pydantic.BaseModel] | None = None) -> str:
    """One readable message for every problem pydantic found, each naming its field.

    ``allowed_keys``: for a document whose unknown keys are not parameters (a scenario's top
    level), the keys to list instead. ``model``: the document's model, whose nested models
    (an intervention, a watch entry) list their own keys for an unknown one.
    """
    lines = []
    for e in err.errors():
        loc = tuple(e.get("loc", ()))
        path = ".".join(str(x) for x in ((prefix,) if prefix else ()) + loc)
        nested = _keys_at(model, loc[:-1]) if model is not None and len(loc) > 1 else None
        if e["type"] == "extra_forbidden" and nested is not None:
            msg = f"unknown key; allowed: {', '.join(nested)}"
        elif e["type"] == "extra_forbidden" and allowed_keys is not None and len(loc) == 1:
            msg = f"unknown key; allowed: {', '.join(allowed_keys)}"
        elif e["type"] == "extra_forbidden":
            near = close_names(str(loc[-1])) if loc else ""
            msg = "unknown parameter" + (f" (did you mean {near}?)" if near else "")
            if not prefix or prefix == "parameters":
                msg += "; `ruralgov params` lists the allowed names"
        else:
            msg = e["msg"].removeprefix("Value error, ")
            allowed = _allowed(loc)
            if allowed and allowed not in msg:
                msg += f"; allowed: {allowed}"
            if "input" in e and e["type"] != "missing" and "got " not in msg:
                msg += f" (got {short_repr(e['input'])})"
        lines.append(f"{source}: {path}: {msg}")
    return "\n".join(lines)


def _keys_at(model: type[pydantic.BaseModel], loc: tuple) -> tuple[str, ...] | None:
    """The keys (aliases where given) of the nested model at ``loc`` inside ``model`` (list
    indices skipped), or None where ``loc`` leads to a mapping of free keys (parameters)."""
    import typing

    def inner(tp):
        if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
            return tp
        for arg in typing.get_args(tp):
            found = inner(arg)
            if found is not None:
                return found
        return None

    current: type[pydantic.BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        if current is None:
            return None
        field = next((f for k, f in current.model_fields.items()
                      if part in (k, f.alias)), None)
        if field is None:
            return None
        origin = typing.get_origin(field.annotation)
        if origin is dict or field.annotation is dict:
            return None
        current = inner(field.annotation)
    if current is None:
        return None
    return tuple(f.alias or k for k, f in current.model_fields.items())


def short_repr(value: Any, limit: int = 200) -> str:
    """``repr(value)``, cut to ``limit`` characters with a note of the full length: an error
    message never echoes a huge value."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def close_names(name: str, choices: Iterable[str] | None = None) -> str:
    """The names among ``choices`` (default: every parameter) that look like ``name``, for a
    "did you mean" in an error message; empty if none does."""
    import difflib

    pool = list(REGISTRY) if choices is None else list(choices)
    return ", ".join(difflib.get_close_matches(name, pool, n=3, cutoff=0.6))


def validate_params(values: dict[str, Any], source: str = "parameters",
                    prefix: str = "") -> dict[str, Any]:
    """Validate and complete a parameter dict; return every parameter's value.

    Raises:
        InputError: naming ``source``, the field and what is allowed.
    """
    try:
        return ParamsModel(**values).model_dump()
    except pydantic.ValidationError as err:
        raise InputError(format_pydantic_error(err, source, prefix)) from None


def check_combinations(p: dict[str, Any], source: str = "parameters", prefix: str = "") -> None:
    """Refuse impossible combinations in a complete set of parameters (a county about to be
    built, a scenario resolved): not in a partial one (a factor, ``--set``), whose other values
    may come from elsewhere.

    Raises:
        InputError: naming ``source``, the fields and what is allowed.
    """
    at = f"{prefix}." if prefix else ""
    if p["matter_window"] > 0 and p["matter_rate"] == 0:
        raise InputError(f"{source}: {at}matter_window = {p['matter_window']} needs "
                         f"{at}matter_rate > 0 (the matters petitions are about); set "
                         "matter_rate above 0 or matter_window = 0")
    if 0 < p["rules_total"] < p["n_departments"]:
        raise InputError(f"{source}: {at}rules_total = {p['rules_total']} is below "
                         f"{at}n_departments = {p['n_departments']}; every department issues "
                         "at least one rule (rules_total 0: rules_per_department each)")


@dataclass(frozen=True)
class Intervention:
    """Levers moved in a running county (ODD 7.1): from the start of step ``step`` on, the
    parameters in ``settings`` have these values. Only parameters read every step may be
    moved (not those of [`AT_START`][ruralgov.model.params.AT_START]). With ``township``
    (an index, 0 first) they are that township's own choice, for it alone: only the levers of
    [`TOWNSHIP_LEVERS`][ruralgov.model.params.TOWNSHIP_LEVERS]."""

    step: int
    settings: Mapping[str, Any]
    township: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The form of a scenario file's ``interventions`` entry: ``{step: …, set: {…}}``
        (and ``township: …`` for one township's own choice)."""
        out: dict[str, Any] = {"step": self.step}
        if self.township is not None:
            out["township"] = self.township
        out["set"] = dict(self.settings)
        return out


def _check_township_levers(where: str, township: Any, settings: Any) -> None:
    if isinstance(township, bool) or not isinstance(township, int) or township < 0:
        raise InputError(f"{where}.township: allowed a township's index, a whole number from 0 "
                         f"(got {short_repr(township)})")
    if isinstance(settings, Mapping):
        other = sorted(str(k) for k in settings if k not in TOWNSHIP_LEVERS)
        if other:
            raise InputError(f"{where}.set: {', '.join(other)} is the county's, not a township "
                             f"head's to choose; allowed with township: "
                             f"{', '.join(TOWNSHIP_LEVERS)}")


def check_townships(interventions: Iterable[Intervention], n_townships: int,
                    source: str = "model parameters", field: str = "interventions") -> None:
    """Every township intervention names a township the county has."""
    for i, iv in enumerate(interventions):
        if iv.township is not None and iv.township >= n_townships:
            raise InputError(f"{source}: {field}[{i}].township: the county has {n_townships} "
                             f"townships; allowed 0 to {n_townships - 1} (got {iv.township})")


def validate_interventions(items: Iterable[Any] | None, source: str = "model parameters",
                           after: int = 0, field: str = "interventions"
                           ) -> tuple[Intervention, ...]:
    """Check interventions (``Intervention`` objects or ``{step: int, set: {name: value}}``
    mappings, with ``township: int`` for one township's own levers) and return them ordered
    by step (those of one step in the order given). Whether a township exists is checked by
    the model, which knows how many it has.

    ``after``: the last step already run; an intervention must come later. ``source`` names
    the file (or caller) and ``field`` the list in it, for the messages.

    Raises:
        InputError: naming ``source``, the entry and field, and what is allowed.
    """
    out = []
    for i, item in enumerate(items or ()):
        where = f"{source}: {field}[{i}]"
        if isinstance(item, Intervention):
            step, settings, township = item.step, item.settings, item.township
        elif isinstance(item, Mapping) and set(item) in ({"step", "set"},
                                                         {"step", "set", "township"}):
            step, settings, township = item["step"], item["set"], item.get("township")
        else:
            raise InputError(f"{where}: an intervention is a mapping with the keys step and set "
                             f"(and township for one township's own levers), e.g. {{step: 24, "
                             f"set: {{responsiveness: 0.9}}}} (got {short_repr(item)})")
        if isinstance(step, bool) or not isinstance(step, int) or not after < step <= MAX_STEPS:
            raise InputError(f"{where}.step: allowed a whole number from {after + 1} to "
                             f"{MAX_STEPS:,} (got {short_repr(step)})")
        if not isinstance(settings, Mapping) or not settings:
            raise InputError(f"{where}.set: allowed a non-empty mapping of parameter names to "
                             f"values (got {short_repr(settings)})")
        fixed = sorted(str(k) for k in settings if k in AT_START)
        if fixed:
            raise InputError(f"{where}.set: {', '.join(fixed)} is set when the county is built "
                             "(it gives the initial state or the shape of the arrays) and "
                             "cannot change in a running county; allowed: the parameters "
                             "`ruralgov params` marks 'any step'")
        if township is not None:
            _check_township_levers(where, township, settings)
        checked = validate_params(dict(settings), source=source, prefix=f"{field}[{i}].set")
        out.append(Intervention(int(step), {str(k): checked[k] for k in settings},
                                None if township is None else int(township)))
    return tuple(sorted(out, key=lambda iv: iv.step))
