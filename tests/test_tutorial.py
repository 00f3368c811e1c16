"""Every code block of docs/tutorial.md runs, in order, in a fresh folder: shell blocks with the
installed `ruralgov` on PATH, Python blocks in one shared namespace."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"


def blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(sh|python)\n(.*?)```", text, flags=re.S)


def test_tutorial_has_shell_and_python_blocks():
    kinds = [k for k, _ in blocks(TUTORIAL.read_text())]
    assert kinds.count("sh") >= 4 and kinds.count("python") >= 4


def test_every_tutorial_block_runs(tmp_path, monkeypatch):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, (kind, code) in enumerate(blocks(TUTORIAL.read_text())):
        if kind == "sh":
            for line in code.strip().splitlines():
                res = subprocess.run(line, shell=True, cwd=tmp_path, env=env,
                                     capture_output=True, text=True, timeout=600)
                assert res.returncode == 0, f"block {i}: {line}\n{res.stderr}"
        else:
            exec(compile(code, f"tutorial block {i}", "exec"), namespace)
    assert (tmp_path / "tutorial" / "smoke-analysis" / "main_effects.png").is_file()
