"""Finding named files: scenarios, experiments (``paper/h01_authority``) and the validations of
the classic models (``experiments/validation``), by path or by name.

A name is looked up, in this order, in

1. ``./scenarios`` or ``./experiments`` under the current working directory,
2. the same folder of the source checkout ruralgov runs from, if it runs from one
   ([`CHECKOUT`][ruralgov.io.finder.CHECKOUT]),
3. the copy bundled in an installed wheel (``ruralgov/_data/``);

the first folder that has the name wins. [`find_named`][ruralgov.io.finder.find_named] finds
one file, [`named_files`][ruralgov.io.finder.named_files] lists them all.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from ruralgov.model.schema import InputError

__all__ = ["CHECKOUT", "checkout_of", "data_dirs", "find_named", "named_files", "shadowed",
           "scenario_ref", "check_path_text"]


def checkout_of(package: Path) -> Path | None:
    """The source checkout that holds the package folder ``package`` (``<checkout>/src/ruralgov``)
    — recognised by its ``pyproject.toml`` naming the project ruralgov — or None (an installed
    wheel, say, whose package sits in ``site-packages``)."""
    package = Path(package)
    if package.parent.name != "src":
        return None
    root = package.parent.parent
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return root if project.get("project", {}).get("name") == "ruralgov" else None


CHECKOUT: Path | None = checkout_of(Path(__file__).resolve().parents[1])
"""The source checkout this package runs from, when it is one: the folder two above the package
(``<checkout>/src/ruralgov``), if its ``pyproject.toml`` names the project ruralgov
([`checkout_of`][ruralgov.io.finder.checkout_of]); None when ruralgov is installed from a
wheel. Its ``scenarios/`` and ``experiments/`` are searched by name."""


def _folder(kind: str) -> str:
    return kind if kind.endswith("s") else f"{kind}s"


def data_dirs(kind: str) -> list[Path]:
    """The folders files of a kind (``scenario`` or ``experiment``; the plural is accepted
    too) are looked up in by name, in order, those that exist: ``./<kind>s``, the checkout's
    and the installed package's."""
    folder = _folder(kind)
    dirs = [Path.cwd() / folder]
    if CHECKOUT is not None:
        dirs.append(CHECKOUT / folder)
    try:
        dirs.append(Path(str(resources.files("ruralgov") / "_data" / folder)))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover
        pass
    seen, out = set(), []
    for d in dirs:
        key = d.resolve() if d.exists() else d
        if d.is_dir() and key not in seen:
            seen.add(key)
            out.append(d)
    return out


def check_path_text(text: str | Path, where: str) -> Path:
    """A path as given in a file or on the command line, checked before the file system sees
    it: no NUL byte, no part longer than the 255 bytes a file name may have.

    Raises:
        InputError: naming ``where`` and what is wrong (the path shown cut short)."""
    value = str(text)
    shown = repr(value[:60] + ("…" if len(value) > 60 else ""))
    if "\0" in value:
        raise InputError(f"{where}: {shown}: a path with a NUL byte")
    long = [part for part in Path(value).parts if len(part.encode("utf-8", "replace")) > 255]
    if long:
        raise InputError(f"{where}: {shown}: a part of the path has "
                         f"{len(long[0].encode('utf-8', 'replace'))} bytes; a file or folder "
                         "name has at most 255")
    return Path(value)


def find_named(name_or_path: str | Path, kind: str, nested: bool = False) -> Path:
    """The YAML file of a ``kind`` (``scenario``, ``experiment``) given by path or by name;
    ``nested`` names may contain a folder (``paper/h1``).

    Raises:
        InputError: no such file, or no such name (listing the names there are).
    """
    kind = _folder(kind)[:-1]
    path = check_path_text(name_or_path, kind)
    if path.is_file():
        return path
    if path.suffix in (".yaml", ".yml") or (not nested and path.parent != Path(".")):
        raise InputError(f"{path}: no such {kind} file")
    dirs = data_dirs(kind)
    for d in dirs:
        for suffix in (".yaml", ".yml"):
            cand = d / f"{name_or_path}{suffix}"
            if cand.is_file():
                _say_shadowed(cand, shadowed(name_or_path, kind))
                return cand
    names = sorted({str(f.relative_to(d).with_suffix("")) for d in dirs
                    for f in (d.rglob("*.yaml") if nested else d.glob("*.yaml"))})
    raise InputError(f"{name_or_path}: no such {kind}; known {kind}s: "
                     f"{', '.join(names) or '(none found)'}")


def named_files(kind: str, under: str | None = None, nested: bool = False) -> dict[str, Path]:
    """Every YAML file of a ``kind`` found by name, first folder wins: name -> file, sorted by
    name. ``under`` looks in one sub-folder only (``paper``, ``validation``: names are then
    the file names' stems); ``nested`` also lists sub-folders (names like ``paper/h1``)."""
    found: dict[str, Path] = {}
    hidden: dict[str, list[Path]] = {}
    for d in data_dirs(kind):
        top = d / under if under else d
        for f in sorted(top.rglob("*.yaml") if nested else top.glob("*.yaml")):
            name = f.relative_to(top).with_suffix("").as_posix()
            if name in found:
                hidden.setdefault(name, []).append(f)
            found.setdefault(name, f)
    for name, files in hidden.items():
        _say_shadowed(found[name], files)
    return {k: found[k] for k in sorted(found, key=lambda k: Path(k).parts)}


def shadowed(name: str | Path, kind: str) -> list[Path]:
    """The files a name would find if the first folder that has it did not: the shipped files
    a local ``./scenarios`` or ``./experiments`` file of the same name hides."""
    found = [d / f"{name}{suffix}" for d in data_dirs(kind) for suffix in (".yaml", ".yml")]
    return [f for f in found if f.is_file()][1:]


_SAID: set[Path] = set()


def _say_shadowed(path: Path, hidden: list[Path]) -> None:
    """Say once per process, on stderr, that a local file is used instead of a shipped one of
    the same name (a copy left in ./experiments would otherwise change results unsaid)."""
    if hidden and path not in _SAID:
        import sys

        _SAID.add(path)
        print(f"ruralgov: note: {path} is used; it hides {', '.join(map(str, hidden))} of the "
              "same name", file=sys.stderr)


def scenario_ref(name: str, path: Path | str | None) -> str:
    """A scenario as a study's experiment file names it: by ``name`` where the name finds the
    same file (a scenario of the project), so the file runs on any machine; else by its
    ``path`` (a scenario file of the user's)."""
    if path is None:
        return name
    try:
        if find_named(name, "scenario").resolve() == Path(path).resolve():
            return name
    except InputError:
        pass
    return str(path)
