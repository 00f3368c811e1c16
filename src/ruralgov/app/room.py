"""A training room: one county on the trainer's machine, township heads played by trainees.

No web server here: a [`Room`][ruralgov.app.room.Room] holds the county, the participants and
the rounds, so that every rule of a session can be tested, and used from a notebook, without a
browser; the pages that trainees and the trainer use only call it.

* Trainees **join** with the room's code and a name; each becomes the head of a township
  (the one with the fewest heads: with more trainees than townships, teams share one). A
  participant's token lets a dropped phone **rejoin** as the same head.
* A session runs in **rounds** of ``round_months`` months. In each round every head submits
  their township's levers ([`TOWNSHIP_LEVERS`][ruralgov.model.params.TOWNSHIP_LEVERS]);
  when all have submitted (the **barrier**), or the trainer advances anyway, or the round's
  timer runs out, the choices enter the county as township interventions from the next month
  and the county runs the round.
* The **trainer** starts, pauses and resumes, removes a participant, broadcasts a message,
  reveals or hides what heads see (the truth behind their reports, the other townships), and
  triggers a scandal, a campaign or a hardship shock — each a county-wide intervention.
* Every choice and event is in the **log**; [`Room.replay_yaml`][ruralgov.app.room.Room.replay_yaml]
  is the session as a scenario file that ``ruralgov run`` reproduces value for value, and
  [`Room.debrief`][ruralgov.app.room.Room.debrief] what each township chose and got, against
  what the county saw.
"""

from __future__ import annotations

import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ruralgov.app.dashboard.session import Run, build, scenario_yaml
from ruralgov.model.params import REGISTRY, TOWNSHIP_LEVERS
from ruralgov.model.schema import InputError, short_repr, validate_params

__all__ = ["Room", "Participant", "EVENTS", "MAX_PARTICIPANTS", "MAX_NAME"]

#: The most participants a room takes (a large Party-school class), and the longest name.
MAX_PARTICIPANTS = 200
MAX_NAME = 40
#: What the trainer can set off in the county (each a county-wide intervention).
EVENTS = ("scandal", "campaign", "shock")
#: The letters of join codes and of nothing else: no 0/O, 1/I/L to misread from a projector.
_CODE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: A campaign the trainer has not triggered never starts (its start lies beyond any session).
_NEVER = 10**6 - 1


@dataclass
class Participant:
    """A trainee: their name, the township they head, and their secret token (their phone
    keeps it, to rejoin)."""

    name: str
    township: int
    token: str
    last_seen: float = field(default_factory=time.monotonic)
    removed: bool = False

    def public(self, submitted: bool) -> dict[str, Any]:
        return {"name": self.name, "township": self.township, "submitted": submitted,
                "removed": self.removed, "seen_s_ago": round(time.monotonic() - self.last_seen)}


class Room:
    """One training session on one county (see the module's description).

    Args:
        scenario: the county (a scenario name or file).
        seed: its seed (the replay file records it).
        round_months: months the county runs each round.
        rounds: rounds in the session (then it ends and the debrief opens).
        round_seconds: a round's timer (None: the barrier and the trainer only).
        overrides: parameters changed from the scenario's.
        campaign_ready: build the county with a campaign rule that starts only when the
            trainer triggers it (a campaign's rule must exist when the county is built).
    """

    def __init__(self, scenario: str = "baseline", seed: int = 0, round_months: int = 12,
                 rounds: int = 6, round_seconds: float | None = None,
                 overrides: dict[str, Any] | None = None, campaign_ready: bool = True):
        if not isinstance(round_months, int) or not 1 <= round_months <= 120:
            raise InputError(f"room: round_months: allowed 1 to 120 (got "
                             f"{short_repr(round_months)})")
        if not isinstance(rounds, int) or not 1 <= rounds <= 50:
            raise InputError(f"room: rounds: allowed 1 to 50 (got {short_repr(rounds)})")
        if round_seconds is not None and not 10 <= round_seconds <= 3600:
            raise InputError(f"room: round_seconds: allowed 10 to 3600 (got {round_seconds})")
        overrides = dict(overrides or {})
        if campaign_ready and not overrides.get("campaign", False):
            overrides.update(campaign=True, campaign_start=_NEVER)
        self.model: Run = build(scenario, seed, overrides)
        self.round_months, self.rounds, self.round_seconds = round_months, rounds, round_seconds
        self.code = "".join(secrets.choice(_CODE_LETTERS) for _ in range(6))
        self.trainer_key = secrets.token_urlsafe(16)
        self.participants: dict[str, Participant] = {}
        self.round = 0  # rounds run so far
        self.state = "lobby"  # lobby, choosing, paused, ended
        self.choices: dict[int, dict[int, dict[str, float]]] = {}  # round -> township -> levers
        self.submitted: set[str] = set()  # tokens of this round's submissions
        self.log: list[dict[str, Any]] = []
        self.messages: list[str] = []
        self.show = {"truth": False, "others": False}
        self.deadline: float | None = None
        self._remaining: float | None = None  # a paused round's time left on its timer
        self.outcomes: list[dict[str, Any]] = []  # per round: the county and each township
        self._lock = threading.RLock()
        self._event("room", "trainer", {"scenario": scenario, "seed": seed,
                                         "round_months": round_months, "rounds": rounds})

    # ------------------------------------------------------------------ participants
    @property
    def n_townships(self) -> int:
        return self.model.n_townships

    def join(self, code: str, name: str) -> Participant:
        """A trainee joins with the room's ``code`` and their ``name``; they head the township
        with the fewest heads (the lowest index among equals).

        Raises:
            InputError: a wrong code, an empty or overlong name, a name taken, a full room or a
                session that has ended."""
        with self._lock:
            if not isinstance(code, str) or code.strip().upper() != self.code:
                raise InputError("join: code: not this room's code (it is on the projector)")
            name = _clean_name(name)
            active = [p for p in self.participants.values() if not p.removed]
            if any(p.name == name for p in active):
                raise InputError(f"join: name: {name!r} is taken in this room; add a letter")
            if len(active) >= MAX_PARTICIPANTS:
                raise InputError(f"join: the room is full ({MAX_PARTICIPANTS} participants)")
            if self.state == "ended":
                raise InputError("join: the session has ended")
            heads = np.bincount([p.township for p in active], minlength=self.n_townships)
            p = Participant(name=name, township=int(np.argmin(heads)),
                            token=secrets.token_urlsafe(16))
            self.participants[p.token] = p
            self._event("join", name, {"township": p.township})
            return p

    def participant(self, token: str) -> Participant:
        """The participant of ``token`` (a dropped phone rejoins with it).

        Raises:
            InputError: no such participant, or one the trainer removed."""
        with self._lock:
            p = self.participants.get(token) if isinstance(token, str) else None
            if p is None:
                raise InputError("token: not a participant of this room; join with the code")
            if p.removed:
                raise InputError("token: the trainer removed this participant")
            p.last_seen = time.monotonic()
            return p

    def remove(self, name: str) -> None:
        """The trainer removes a participant (the barrier no longer waits for them)."""
        with self._lock:
            for p in self.participants.values():
                if p.name == name and not p.removed:
                    p.removed = True
                    self.submitted.discard(p.token)
                    self._event("remove", "trainer", {"name": name})
                    return
            raise InputError(f"remove: no participant named {name!r}")

    # ------------------------------------------------------------------ rounds
    def start(self) -> None:
        """The trainer opens the first round's choices."""
        with self._lock:
            if self.state != "lobby":
                raise InputError(f"start: the session has started (it is {self.state})")
            self._open_round()

    def pause(self, on: bool = True) -> None:
        """The trainer pauses (no submission, no advance, the timer stopped) or resumes."""
        with self._lock:
            if on and self.state == "choosing":
                self.state = "paused"
                self._remaining = None if self.deadline is None else max(
                    self.deadline - time.monotonic(), 0.0)
                self.deadline = None
            elif not on and self.state == "paused":
                self.state = "choosing"
                if self._remaining is not None:
                    self.deadline = time.monotonic() + self._remaining
            else:
                raise InputError(f"pause: the session is {self.state}")
            self._event("pause" if on else "resume", "trainer", {})

    def submit(self, token: str, levers: dict[str, Any]) -> dict[str, float]:
        """A head's levers for this round (any of TOWNSHIP_LEVERS; the others stay as they
        are). A second submission in the round replaces the first; with several heads in one
        township, the last submitted counts.

        Raises:
            InputError: not a lever of a township head, a value out of its range, or no round
                open."""
        with self._lock:
            p = self.participant(token)
            if self.state != "choosing":
                raise InputError(f"submit: no round is open (the session is {self.state})")
            if not isinstance(levers, dict) or not levers:
                raise InputError("submit: levers: allowed a non-empty mapping of "
                                 f"{', '.join(TOWNSHIP_LEVERS)} to values")
            other = sorted(str(k) for k in levers if k not in TOWNSHIP_LEVERS)
            if other:
                raise InputError(f"submit: levers: {', '.join(other)} is not a township head's; "
                                 f"allowed: {', '.join(TOWNSHIP_LEVERS)}")
            checked = validate_params(dict(levers), source="submit", prefix="levers")
            own = {k: float(checked[k]) for k in levers}
            self.choices.setdefault(self.round + 1, {}).setdefault(p.township, {}).update(own)
            self.submitted.add(token)
            self._event("submit", p.name, {"township": p.township, **own})
            return own

    def waiting_for(self) -> list[str]:
        """The names of the participants the barrier still waits for this round."""
        with self._lock:
            return sorted(p.name for p in self.participants.values()
                          if not p.removed and p.token not in self.submitted)

    def advance(self, force: bool = False) -> bool:
        """Run the round: the submitted levers enter as township interventions from the next
        month, then the county runs ``round_months`` months. Without ``force`` only when every
        participant has submitted (or the timer ran out). Returns whether it ran.

        Raises:
            InputError: no round open (the lobby, a pause, the end)."""
        with self._lock:
            if self.state != "choosing":
                raise InputError(f"advance: no round is open (the session is {self.state})")
            expired = self.deadline is not None and time.monotonic() >= self.deadline
            if not force and not expired and (self.waiting_for()
                                              or not self._active()):
                return False
            self._run_round("trainer" if force else "timer" if expired else "barrier")
            return True

    def tick(self) -> bool:
        """Run the round if the barrier is met or its timer has run out (the pages' polls
        call this: the room needs no thread of its own). Returns whether it ran."""
        with self._lock:
            return self.state == "choosing" and self.advance()

    def _active(self) -> list[Participant]:
        return [p for p in self.participants.values() if not p.removed]

    def _run_round(self, how: str) -> None:
        model, step = self.model, self.model.steps + 1
        chosen = self.choices.get(self.round + 1, {})
        for township in sorted(chosen):
            now = {k: v for k, v in chosen[township].items()
                   if self.model.townships[township].setting(k) != v}
            if now:
                model.intervene(now, step=step, township=township)
        for _ in range(self.round_months):
            model.step()
        self.round += 1
        self.outcomes.append(self._outcome(step))
        self._event("round", "trainer", {"round": self.round, "by": how,
                                         "choices": {str(k): v for k, v in chosen.items()}})
        if self.round >= self.rounds:
            self.state, self.deadline = "ended", None
            self._event("end", "trainer", {})
        else:
            self._open_round()

    def _open_round(self) -> None:
        self.state = "choosing"
        self.submitted = set()
        self.deadline = (None if self.round_seconds is None
                         else time.monotonic() + self.round_seconds)

    # ------------------------------------------------------------------ the trainer's
    def broadcast(self, text: str) -> None:
        """A message on every participant's screen."""
        with self._lock:
            text = _clean_text(text, 280, "broadcast: text")
            self.messages.append(text)
            self._event("broadcast", "trainer", {"text": text})

    def reveal(self, view: str, on: bool) -> None:
        """Show or hide a view on the participants' screens: ``truth`` (their township's true
        compliance beside what it reports) or ``others`` (every township's numbers)."""
        with self._lock:
            if view not in self.show:
                raise InputError(f"reveal: view: allowed {', '.join(self.show)} (got "
                                 f"{short_repr(view)})")
            self.show[view] = bool(on)
            self._event("reveal", "trainer", {"view": view, "on": bool(on)})

    def trigger(self, event: str) -> None:
        """Set off an event from the next month: a ``scandal`` (officials' visible misconduct
        for one round), a ``campaign`` (the campaign rule enforced for the rest of the
        session) or a hardship ``shock`` (next month only)."""
        with self._lock:
            if event not in EVENTS:
                raise InputError(f"trigger: event: allowed {', '.join(EVENTS)} (got "
                                 f"{short_repr(event)})")
            m, step = self.model, self.model.steps + 1
            if event == "scandal":
                m.intervene({"scandal": True, "scandal_start": step - 1,
                             "scandal_duration": self.round_months}, step=step)
            elif event == "campaign":
                if not m.p["campaign"]:
                    raise InputError("trigger: campaign: this county was built without a "
                                     "campaign rule (campaign_ready = false)")
                m.intervene({"campaign_start": step - 1, "campaign_duration": _NEVER - step},
                            step=step)
            else:
                m.intervene({"hardship_shock": 0.3}, step=step)
                m.intervene({"hardship_shock": m.p["hardship_shock"]}, step=step + 1)
            self._event("trigger", "trainer", {"event": event, "step": step})

    # ------------------------------------------------------------------ what people see
    def view(self, token: str) -> dict[str, Any]:
        """What a participant's screen shows: their township, the round, their levers now,
        whether they submitted, their township's rounds (what the county sees of it, and with
        ``truth`` revealed what is true), the others' with ``others`` revealed, messages."""
        with self._lock:
            p = self.participant(token)
            t = self.model.townships[p.township]
            rounds = [_township_row(o, p.township, self.show["truth"]) for o in self.outcomes]
            out = {"name": p.name, "township": p.township, "round": self.round,
                   "rounds": self.rounds, "state": self.state, "step": self.model.steps,
                   "submitted": p.token in self.submitted,
                   "levers": {k: float(t.setting(k)) for k in TOWNSHIP_LEVERS},
                   "ranges": {k: [REGISTRY[k].lo, REGISTRY[k].hi] for k in TOWNSHIP_LEVERS},
                   "own": rounds, "messages": list(self.messages[-5:]),
                   "seconds_left": self.seconds_left(), "show": dict(self.show)}
            if self.show["others"]:
                out["others"] = [
                    [_township_row(o, k, self.show["truth"]) for o in self.outcomes]
                    for k in range(self.n_townships)]
            return out

    def public(self) -> dict[str, Any]:
        """What the projector shows: the code, the round, how many the round waits for and
        the county's rounds (no township's truth)."""
        with self._lock:
            return {"code": self.code, "state": self.state, "round": self.round,
                    "rounds": self.rounds, "seconds_left": self.seconds_left(),
                    "waiting": len(self.waiting_for()),
                    "county": [{"round": o["round"], **o["county"]} for o in self.outcomes]}

    def seconds_left(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)

    def console(self) -> dict[str, Any]:
        """The trainer's view: the state, who has submitted, every township's rounds with the
        truth, the county's, and the log's latest entries."""
        with self._lock:
            return {"code": self.code, "state": self.state, "round": self.round,
                    "rounds": self.rounds, "step": self.model.steps,
                    "seconds_left": self.seconds_left(), "show": dict(self.show),
                    "participants": [p.public(p.token in self.submitted)
                                     for p in self.participants.values()],
                    "waiting_for": self.waiting_for(), "outcomes": list(self.outcomes),
                    "log": self.log[-20:]}

    def _outcome(self, first_step: int) -> dict[str, Any]:
        """The round just run (months first_step..now): each township's and the county's."""
        m = self.model
        tw = m.detail("townships")
        tw = tw[tw.step >= first_step]
        vil = m.detail("villages")
        vil = vil[vil.step >= first_step]
        s = m.series()
        s = s[s.step >= first_step]
        size = m.structure.township_size
        legit = np.bincount(m.structure.township, weights=m.villagers.legitimacy,
                            minlength=m.n_townships) / np.maximum(size, 1)
        rows = []
        for k in range(m.n_townships):
            a, b = tw[tw.township == k], vil[vil.township == k]
            rows.append({"township": k, "levers": {n: float(m.townships[k].setting(n))
                                                   for n in TOWNSHIP_LEVERS},
                         "reported_compliance": float(a.reported_compliance.mean()),
                         "true_compliance": float(a.true_compliance.mean()),
                         "escalations": int(a.escalations.sum()),
                         "cases_handled": int(a.cases_handled.sum()),
                         "pressure": float(a.pressure.iloc[-1]),
                         "protesters": int(b.protesters.sum()),
                         "legitimacy": float(legit[k])})
        county = {"compliance": float(s.compliance.mean()),
                  "compliance_reported": float(s.compliance_reported.mean()),
                  "petitions_escalated": int(s.petitions_escalated.sum()),
                  "protest_episodes": int(s.protest_episodes.sum()),
                  "legitimacy": float(s.legitimacy_mean.iloc[-1])}
        return {"round": self.round, "steps": [first_step, m.steps],
                "townships": rows, "county": county}

    # ------------------------------------------------------------------ after the session
    def replay_yaml(self) -> str:
        """The session as a scenario file: ``ruralgov run`` on it reproduces the county value
        for value (every choice is a township intervention, every event a county one)."""
        with self._lock:
            return scenario_yaml(self.model).replace(
                "# ruralgov dashboard run", "# ruralgov training room session", 1).replace(
                "(dashboard run,", "(training room,", 1).replace("（仪表盘运行，", "（培训室，", 1)

    def debrief(self) -> dict[str, Any]:
        """Each township's heads, choices and outcomes by round, the county's, and how far
        reports ran ahead of the truth (the evaluation system's blind spot)."""
        with self._lock:
            heads: dict[int, list[str]] = {}
            for p in self.participants.values():
                heads.setdefault(p.township, []).append(p.name)
            gap = [max(r["reported_compliance"] - r["true_compliance"], 0.0)
                   for o in self.outcomes for r in o["townships"]]
            return {"rounds": self.round, "steps": self.model.steps,
                    "heads": {str(k): v for k, v in sorted(heads.items())},
                    "outcomes": list(self.outcomes),
                    "reporting_gap_mean": float(np.mean(gap)) if gap else None,
                    "log": list(self.log)}

    def _event(self, kind: str, who: str, detail: dict[str, Any]) -> None:
        self.log.append({"t": time.time(), "step": self.model.steps, "round": self.round,
                         "kind": kind, "who": who, **detail})


def _township_row(outcome: dict[str, Any], township: int, truth: bool) -> dict[str, Any]:
    row = dict(outcome["townships"][township])
    if not truth:
        row.pop("true_compliance")
    return {"round": outcome["round"], **row}


def _clean_text(text: Any, limit: int, where: str) -> str:
    if not isinstance(text, str):
        raise InputError(f"{where}: allowed text (got {short_repr(text)})")
    text = "".join(c for c in unicodedata.normalize("NFC", text)
                   if unicodedata.category(c)[0] != "C").strip()
    if not text or len(text) > limit:
        raise InputError(f"{where}: allowed 1 to {limit} characters (got {len(text)})")
    return text


def _clean_name(name: Any) -> str:
    return _clean_text(name, MAX_NAME, "join: name")
