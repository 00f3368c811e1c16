"""How fast a training room answers a full class: ``--participants`` simulated phones against a
real ``ruralgov room`` server over HTTP.

Each simulated phone joins, then every round all submit their levers at once (one thread
each) while polling as the pages do. The last submission meets the barrier, and the round
(``--months`` months of the county) runs inside that request: its latency is how long the
room waits between the last choice and the new round. Reported per round (median and max over
``--rounds``): that latency, the other submissions' latency, and the server's CPU time for the
round (``/proc``: user + system of the server process) beside the wall time. The issue's
target: a round with 40 participants advances in at most 1 s.

Run: ``make bench-room`` or ``.venv/bin/python benchmarks/room.py`` (needs the room extra);
``--participants 40 --rounds 5 --months 12 --scenario baseline --json benchmarks/room.json``.
The machine is shared: figures are only as quiet as the machine was (the JSON records the load
average).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _post(url: str, body: dict, headers: dict) -> tuple[float, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        out = json.loads(r.read())
    return time.perf_counter() - t0, out


def _get(url: str, headers: dict) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as r:
        return json.loads(r.read())


def _cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args) -> tuple[subprocess.Popen, str, str, str]:
    port = _free_port()
    exe = Path(sys.executable).with_name("ruralgov")
    proc = subprocess.Popen(
        [str(exe), "room", args.scenario, "--port", str(port), "--rounds", str(args.rounds),
         "--months", str(args.months), "--seed", "1", *sum((["--set", s] for s in args.set), [])],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [proc.stdout.readline() for _ in range(4)]
    code = re.search(r"code (\w+)", lines[0]).group(1)
    key = re.search(r"console .*#(\S+)", lines[3]).group(1)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url, code, key
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("".join(lines) + proc.stdout.read()) from None
            time.sleep(0.25)
    proc.kill()
    raise SystemExit("the room did not start in 60 s")


def _round(url: str, phones: list[dict], k: int) -> dict:
    """Every phone submits at once; the slowest request is the one that ran the round."""
    times: list[float] = []
    lock = threading.Lock()

    def one(i, h):
        t, _ = _post(f"{url}/api/submit",
                     {"levers": {"suppression": (0.1 * (i + k)) % 1.0}}, h)
        with lock:
            times.append(t)

    threads = [threading.Thread(target=one, args=(i, h)) for i, h in enumerate(phones)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times.sort()
    return {"round_s": times[-1], "other_submits_median_s": statistics.median(times[:-1])
            if len(times) > 1 else None}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--participants", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    proc, url, code, key = _start(args)
    try:
        phones = []
        for i in range(args.participants):
            _, j = _post(f"{url}/api/join", {"code": code, "name": f"p{i:03d}"}, {})
            phones.append({"X-Token": j["token"]})
        _post(f"{url}/api/trainer", {"action": "start"}, {"X-Key": key})
        rounds = []
        for k in range(args.rounds):
            cpu0, wall0 = _cpu(proc.pid), time.perf_counter()
            r = _round(url, phones, k)
            r["server_cpu_s"] = _cpu(proc.pid) - cpu0
            r["wall_s"] = time.perf_counter() - wall0
            state = _get(f"{url}/api/console", {"X-Key": key})
            assert state["round"] == k + 1, state  # the barrier ran the round
            rounds.append(r)
            print(f"round {k + 1}: ran in {r['round_s']:.3f} s (server CPU "
                  f"{r['server_cpu_s']:.3f} s, wall {r['wall_s']:.3f} s)", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    out = {"participants": args.participants, "months": args.months, "scenario": args.scenario,
           "set": args.set, "rounds": rounds,
           "round_s_median": statistics.median(r["round_s"] for r in rounds),
           "round_s_max": max(r["round_s"] for r in rounds),
           "server_cpu_s_median": statistics.median(r["server_cpu_s"] for r in rounds),
           "target_s": 1.0, "load_average": os.getloadavg(),
           "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    out["within_target"] = out["round_s_max"] <= out["target_s"]
    print(json.dumps({k: v for k, v in out.items() if k != "rounds"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
