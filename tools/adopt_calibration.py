"""Make a finished calibration's point estimate the model's defaults (issue 28's last step).

    .venv/bin/python tools/adopt_calibration.py results/calibration/targets

reads ``point.json`` of that folder (``ruralgov calibrate --point``) and rewrites, in
``src/ruralgov/model/params.py`` (the one home of every default), the default of every
calibrated parameter and of the three slow stocks to the chosen particle's values at four
significant figures (what ``tests/test_point.py`` holds them to), and the ``CALIBRATED`` tuple
to the parameters the calibration estimated. It changes nothing else and prints what it
changed; then it lists what must be regenerated in the same commit (results change on
purpose), in the order that works:

1. ``ruralgov params --markdown`` into docs/ODD.md's table, ``ruralgov magnitudes`` (ODD §1.3);
2. golden hashes (``RURALGOV_REGEN_GOLDEN=1 pytest tests/test_golden.py -k "model_outputs or
   smoke_sweep"``), the verdict digest (``make paper-quick``, then ``-k verdicts`` with
   ``RURALGOV_GOLDEN_VERDICTS``);
3. ``make stories`` (docs/stories.md: a story no longer true is rewritten, not forced),
   ``make levers`` (docs/levers.md);
4. the text that quotes numbers: README, docs/calibration.md, CHANGELOG.

It is a maintainer's tool, not part of the package: it edits source files.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "src" / "ruralgov" / "model" / "params.py"


def _literal(value: float, kind: str) -> str:
    if kind == "int":
        return str(int(round(value)))
    return repr(float(f"{value:.4g}"))


def adopt(folder: Path) -> list[str]:
    chosen = json.loads((folder / "point.json").read_text(encoding="utf-8"))["chosen"]
    values = {**chosen["parameters"], **chosen["stocks"]}
    src = PARAMS.read_text(encoding="utf-8")
    changed = []
    for name, value in values.items():
        pattern = re.compile(r'(_p\("' + re.escape(name) + r'", )([^,]+)(, "(float|int)")')
        m = pattern.search(src)
        if m is None:
            raise SystemExit(f"{PARAMS}: no registry entry _p(\"{name}\", ...)")
        new = _literal(value, m.group(4))
        if new != m.group(2):
            changed.append(f"{name}: {m.group(2)} -> {new}")
            src = src[:m.start(2)] + new + src[m.end(2):]
    names = ", ".join(f'"{n}"' for n in chosen["parameters"])
    block = re.compile(r"(CALIBRATED: tuple\[str, \.\.\.\] = \()(.*?)(\n\))", re.S)
    if block.search(src) is None:
        raise SystemExit(f"{PARAMS}: no CALIBRATED tuple")
    wrapped = _wrap(names)
    src = block.sub(lambda m: m.group(1) + wrapped + m.group(3), src, count=1)
    PARAMS.write_text(src, encoding="utf-8")
    return changed


def _wrap(names: str, width: int = 96) -> str:
    lines, line = [], "   "
    for item in names.split(", "):
        piece = f" {item},"
        if len(line) + len(piece) > width:
            lines.append(line)
            line = "   "
        line += piece
    lines.append(line)
    return "\n" + "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    for line in adopt(Path(sys.argv[1])):
        print(line)
    print("\nnow regenerate, in the same commit (see this script's docstring): the ODD tables, "
          "golden hashes, verdict digest, stories, levers, and the text quoting numbers")
