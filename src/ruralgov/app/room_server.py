"""The training room's web pages (``ruralgov room``): trainees' phones, the projector and the
trainer's console, all served by one small Starlette application around a
[`Room`][ruralgov.app.room.Room].

* ``/`` — join with the room's code and a name (the phone keeps its token, so a dropped phone
  comes back as the same township head); ``/play`` — the head's levers and their township's
  numbers; ``/projector#KEY`` — the code, a QR code to join, the round and the county;
  ``/console#KEY`` — the trainer's controls; ``/debrief?lang=`` — the session afterwards.
* The pages poll a JSON API every two seconds; every request also lets the room advance when
  the barrier is met or the round's timer has run out, so there is no thread of its own.
* Chinese unless the browser asks for English first (``?lang=en`` or ``?lang=zh`` on any page
  switches; a link on every page). The trainer's key (printed on the terminal only) guards the
  console, the replay file and the debrief; participants hold their own tokens.
* Bad input is refused with a message (HTTP 400), an unknown token or key with 403, bodies over
  16 KB with 413. The server binds to this machine only unless ``--lan`` is given.
"""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ruralgov.app.dashboard.labels import preferred_lang
from ruralgov.app.room import EVENTS, Room
from ruralgov.io.fonts import WOFF2, css_face
from ruralgov.model.params import TOWNSHIP_LEVERS
from ruralgov.model.schema import InputError

__all__ = ["create_app", "page_language", "LEVER_TEXT", "MAX_BODY"]

MAX_BODY = 16_384

#: Each lever as a township head reads it: (English, Chinese) name and what it does.
LEVER_TEXT = {
    "responsiveness": (("Answering petitions", "回应信访"),
                       ("share of case capacity spent on petitions, and how fast they are "
                        "taken up", "办案力量用于答复信访的比例，以及受理的快慢")),
    "suppression": (("Persuading petitioners back", "劝返压访"),
                    ("chance a pending petition is intercepted instead of answered",
                     "待办信访被劝返、拦截而不是答复的概率")),
    "discretion": (("Room to adapt rules", "因地制宜"),
                   ("how far rules are fitted to local need (and answers relieve more)",
                    "按当地情况灵活执行规定的空间（答复也更能化解怨气）")),
    "misreporting": (("Dressing up reports", "报喜不报忧"),
                     ("share of the compliance gap your report to the county hides",
                      "向县里汇报时掩盖的执行差距比例")),
}

_TEXT = {
    "title": ("Training room", "乡村治理培训室"),
    "join": ("Join", "加入"), "code": ("Room code", "房间码"), "name": ("Your name", "姓名"),
    "township": ("Township", "乡镇"), "round": ("Round", "第几轮"), "submit": ("Submit", "提交"),
    "submitted": ("Submitted — waiting for the others", "已提交，等待其他人"),
    "your_numbers": ("Your township, round by round", "本乡镇各轮情况"),
    "reported": ("Reported compliance", "上报遵从率"), "true": ("True compliance", "实际遵从率"),
    "escalations": ("Petitions to the county", "越级到县信访"),
    "handled": ("Cases handled", "办结案件"), "pressure": ("County pressure", "问责压力"),
    "protesters": ("Protesters", "参与群体性事件人数"), "legitimacy": ("Trust", "政府信任"),
    "compliance": ("Compliance", "遵从率"), "episodes": ("Protests", "群体性事件"),
    "state": ("State", "状态"), "lobby": ("Waiting to start", "等待开始"),
    "choosing": ("Choose your levers", "请选择本轮措施"), "paused": ("Paused", "已暂停"),
    "ended": ("Session over", "本次培训结束"), "seconds": ("s left", "秒"),
    "join_here": ("Scan to join, or open", "扫码加入，或打开"),
    "waiting": ("Waiting for", "尚未提交"), "county": ("The county", "全县"),
    "start": ("Start", "开始"), "pause": ("Pause", "暂停"), "resume": ("Resume", "继续"),
    "advance": ("Run the round now", "立即推进本轮"), "remove": ("Remove", "移出"),
    "broadcast": ("Broadcast", "广播"), "truth": ("Show the truth", "显示实际情况"),
    "others": ("Show other townships", "显示其他乡镇"), "scandal": ("Scandal", "丑闻"),
    "campaign": ("Campaign", "运动式治理"), "shock": ("Hardship shock", "生计冲击"),
    "replay": ("Replay file", "回放文件"), "debrief": ("Debrief", "复盘"),
    "participants": ("Participants", "参与者"), "log": ("Log", "日志"),
    "choices": ("Choices", "所选措施"),
    "questions": ("Questions for discussion", "讨论题"),
    "q1": ("Where did your reports run ahead of the truth, and who could see it?",
           "哪几轮上报的遵从率高于实际？县里能否看出来？"),
    "q2": ("Did persuading petitioners back lower the petitions reaching the county for "
           "long? What did it do to trust?",
           "劝返压访是否长期减少了到县的上访？对政府信任有何影响？"),
    "q3": ("Which township's choices would you copy, and what would you tell the county "
           "about how it evaluates townships?",
           "你会借鉴哪个乡镇的做法？对县里的考核方式有什么建议？"),
    "other_lang": ("中文", "English"),
}


def _t(key: str, lang: str) -> str:
    en, zh = _TEXT[key]
    return zh if lang == "zh" else en


def page_language(request: Request) -> str:
    """``?lang=`` if given, else English only where the browser asks for English before
    Chinese; Chinese by default."""
    asked = request.query_params.get("lang")
    if asked in ("en", "zh"):
        return asked
    return preferred_lang(request.headers.get("accept-language", ""))


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


async def _body(request: Request) -> dict[str, Any]:
    """The request's JSON object, read no further than MAX_BODY bytes."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise _Refused(413, f"request body over {MAX_BODY:,} bytes")
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise _Refused(400, "request body: allowed a JSON object") from None
    if not isinstance(data, dict):
        raise _Refused(400, "request body: allowed a JSON object")
    return data


def _endpoint(room: Room, handler, guard=None):
    """A JSON endpoint: the guard, the body, the room's tick, then ``handler(request, body)``;
    refusals as ``{"error": message}`` with their status."""
    async def endpoint(request: Request) -> Response:
        try:
            if guard is not None:
                guard(request)
            body = await _body(request) if request.method == "POST" else {}
            room.tick()
            out = handler(request, body)
            return out if isinstance(out, Response) else JSONResponse(out)
        except _Refused as e:
            return JSONResponse({"error": e.message}, status_code=e.status)
        except InputError as e:
            status = 403 if str(e).startswith("token:") else 400
            return JSONResponse({"error": str(e)}, status_code=status)
    return endpoint


def _trainer_guard(room: Room):
    def guard(request: Request) -> None:
        if room.trainer_key not in (request.headers.get("x-key"),
                                    request.query_params.get("key")):
            raise _Refused(403, "the trainer's key is needed")
    return guard


def _token(request: Request) -> str:
    return request.headers.get("x-token", "")


def _act(room: Room, body: dict[str, Any]) -> dict[str, Any]:
    """One of the trainer's actions (the console's buttons)."""
    action = body.get("action")
    actions = {
        "start": lambda: room.start(), "pause": lambda: room.pause(True),
        "resume": lambda: room.pause(False), "advance": lambda: room.advance(force=True),
        "remove": lambda: room.remove(body.get("name")),
        "broadcast": lambda: room.broadcast(body.get("text")),
        "reveal": lambda: room.reveal(body.get("view"), bool(body.get("on"))),
        "trigger": lambda: room.trigger(body.get("event"))}
    if action not in actions:
        raise InputError(f"action: allowed {', '.join(actions)} (got {action!r})")
    actions[action]()
    return room.console()


def _join(room: Room, body: dict[str, Any]) -> dict[str, Any]:
    p = room.join(body.get("code", ""), body.get("name", ""))
    return {"token": p.token, "township": p.township, "name": p.name}


def _submit(room: Room, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    own = room.submit(_token(request), body.get("levers"))
    room.tick()  # the last head's choice runs the round
    return {"levers": own}


def _replay(room: Room) -> Response:
    return Response(room.replay_yaml(), media_type="text/yaml; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="ruralgov-room-replay.yaml"'})


def _qr(room: Room):
    async def qr(request: Request) -> Response:
        import io

        import segno

        buf = io.BytesIO()
        segno.make(f"{request.base_url}?code={room.code}", error="m").save(
            buf, kind="svg", scale=8, border=2)
        return Response(buf.getvalue(), media_type="image/svg+xml")
    return qr


async def _font(request: Request) -> Response:
    """The bundled Chinese font (phones and projectors need not have one); cached a day."""
    if not WOFF2.is_file():
        return Response(status_code=404)
    return FileResponse(WOFF2, media_type="font/woff2",
                        headers={"Cache-Control": "public, max-age=86400"})


def create_app(room: Room) -> Starlette:
    """The room's web application (pages and JSON API)."""
    trainer = _trainer_guard(room)

    def page(kind):
        async def endpoint(request: Request) -> Response:
            return HTMLResponse(_page(kind, page_language(request)))
        return endpoint

    async def debrief_page(request: Request) -> Response:
        try:
            trainer(request)
        except _Refused as e:
            return HTMLResponse(html.escape(e.message), status_code=e.status)
        return HTMLResponse(_debrief_html(room, page_language(request),
                                          dict(request.query_params)))

    def api(handler, guard=None):
        return _endpoint(room, handler, guard)

    routes = [
        Route("/", page("join")), Route("/play", page("play")),
        Route("/projector", page("projector")), Route("/console", page("console")),
        Route("/debrief", debrief_page), Route("/qr.svg", _qr(room)),
        Route("/font.woff2", _font),
        Route("/api/join", api(lambda r, b: _join(room, b)), methods=["POST"]),
        Route("/api/view", api(lambda r, b: room.view(_token(r)))),
        Route("/api/submit", api(lambda r, b: _submit(room, r, b)), methods=["POST"]),
        Route("/api/public", api(lambda r, b: room.public(), trainer)),
        Route("/api/console", api(lambda r, b: room.console(), trainer)),
        Route("/api/trainer", api(lambda r, b: _act(room, b), trainer), methods=["POST"]),
        Route("/api/replay.yaml", api(lambda r, b: _replay(room), trainer)),
        Route("/api/debrief", api(lambda r, b: room.debrief(), trainer)),
    ]
    return Starlette(routes=routes)


# ---------------------------------------------------------------------- pages
_CSS = css_face("/font.woff2") + """
body{font-family:"RuralGov Sans SC","Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC",
"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;margin:0 auto;
max-width:960px;padding:12px;font-size:18px;line-height:1.5}
h1{font-size:28px;margin:4px 0}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ccc;padding:4px 6px;text-align:right}
th:first-child,td:first-child{text-align:left}
button,input,select,textarea{font-family:inherit}
button{font-size:20px;padding:8px 16px;margin:4px}input{font-size:20px;padding:6px}
input[type=range]{width:100%}.err{color:#b00020}.big{font-size:64px;letter-spacing:6px}
.lang{float:right}.note{color:#555;font-size:16px}
body.projector{max-width:none;font-size:28px}body.projector h1{font-size:44px}
"""


@functools.cache
def _script() -> str:
    """The pages' one script (room_static/room.js, shipped with the package)."""
    return (Path(__file__).with_name("room_static") / "room.js").read_text(encoding="utf-8")


def _page(kind: str, lang: str) -> str:
    other = "en" if lang == "zh" else "zh"
    words = {k: _t(k, lang) for k in _TEXT}
    levers = {k: {"name": v[0][1] if lang == "zh" else v[0][0],
                  "what": v[1][1] if lang == "zh" else v[1][0]}
              for k, v in LEVER_TEXT.items()}
    data = json.dumps({"words": words, "levers": levers, "order": list(TOWNSHIP_LEVERS),
                       "events": list(EVENTS), "lang": lang, "kind": kind},
                      ensure_ascii=False).replace("</", "<\\/")
    cls = ' class="projector"' if kind == "projector" else ""
    return (f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            '<meta charset="utf-8"><meta name="viewport" content="width=device-width,'
            f'initial-scale=1"><title>{html.escape(words["title"])}</title>'
            f'<style>{_CSS}</style></head><body{cls}>'
            f'<a class="lang" href="?lang={other}">{html.escape(words["other_lang"])}</a>'
            f'<h1>{html.escape(words["title"])}</h1><div id="app"></div>'
            f'<script>const R={data};</script><script>{_script()}</script>'
            '</body></html>')


def _debrief_html(room: Room, lang: str, query: dict[str, str] | None = None) -> str:
    d = room.debrief()
    w = {k: _t(k, lang) for k in _TEXT}
    # the language switch keeps the page's other parameters (the trainer's key)
    other = urlencode({**(query or {}), "lang": "en" if lang == "zh" else "zh"})
    head = "".join(f"<th>{html.escape(w[k])}</th>" for k in (
        "round", "choices", "reported", "true", "escalations", "protesters", "legitimacy"))
    parts = [f"<h2>{html.escape(w['debrief'])}</h2>"]
    for k in range(room.n_townships):
        names = "、".join(d["heads"].get(str(k), [])) or "—"
        rows = []
        for o in d["outcomes"]:
            r = o["townships"][k]
            chosen = "; ".join(f"{LEVER_TEXT[n][0][1 if lang == 'zh' else 0]} {v:g}"
                               for n, v in r["levers"].items())
            rows.append(f"<tr><td>{o['round']}</td><td>{html.escape(chosen)}</td>"
                        f"<td>{r['reported_compliance']:.2f}</td>"
                        f"<td>{r['true_compliance']:.2f}</td><td>{r['escalations']}</td>"
                        f"<td>{r['protesters']}</td><td>{r['legitimacy']:.2f}</td></tr>")
        parts.append(f"<h3>{html.escape(w['township'])} {k + 1}: {html.escape(names)}</h3>"
                     f"<table><tr>{head}</tr>{''.join(rows)}</table>")
    qs = "".join(f"<li>{html.escape(w[q])}</li>" for q in ("q1", "q2", "q3"))
    parts.append(f"<h3>{html.escape(w['questions'])}</h3><ol>{qs}</ol>")
    return (f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{html.escape(w["debrief"])}</title>'
            f'<style>{_CSS}</style></head><body>'
            f'<a class="lang" href="?{html.escape(other)}">{html.escape(w["other_lang"])}</a>'
            f'<h1>{html.escape(w["title"])}</h1>' + "".join(parts) + "</body></html>")
