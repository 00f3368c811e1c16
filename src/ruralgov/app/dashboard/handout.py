"""A one-page session handout: what the room saw, as one self-contained HTML file (figures
and, in Chinese, the bundled font embedded; prints on one A4 page from any browser, the
reproduction file on a page of its own) — each side's scenario and story, what was changed,
the interventions, the pictures with labelled axes, key numbers (step 1 and now; A, B and
A − B in compare mode), questions for the room drawn from the story's claims, and, as an
appendix, the scenario file that reproduces the run with ``ruralgov run``."""

from __future__ import annotations

import base64
import datetime as dt
import html

from ruralgov import __version__
from ruralgov.app.dashboard import session as S
from ruralgov.app.dashboard import views as V
from ruralgov.app.dashboard.labels import control_label, format_value, measure_label, t
from ruralgov.io import fonts
from ruralgov.io.scenario import load_scenario
from ruralgov.model import RuralGovernanceModel

__all__ = ["handout_html", "KEY_MEASURES"]

#: The numbers the handout lists for each side, at step 1 and now.
KEY_MEASURES = ("compliance", "petitions_new", "petitions_escalated", "protesters",
                "legitimacy_mean", "substitution_index")

_CSS = """
body { font-family: "RuralGov Sans SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif;
       max-width: 56em; margin: 1em auto; color: #263238; font-size: 8.5pt; line-height: 1.3; }
h1 { font-size: 1.45em; margin: 0 0 0.1em; } h2 { font-size: 1.1em; margin: 0.5em 0 0.2em; }
p { margin: 0.2em 0; } ul, ol { margin: 0.2em 0; padding-left: 1.4em; }
.meta, .note { color: #607d8b; font-size: 0.9em; }
.sides { display: flex; gap: 1.2em; } .sides > div { flex: 1; }
table { border-collapse: collapse; margin: 0.2em 0; font-size: 0.95em; }
td, th { padding: 0.1em 0.5em; border-bottom: 1px solid #eceff1; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { width: 100%; display: block; } .row { display: flex; gap: 0.8em; align-items: center; }
.row img { width: 28%; } .row.two img:first-child { width: 42%; }
td:first-child, th { white-space: nowrap; }
pre { background: #f5f5f5; padding: 0.6em; font-size: 0.75em; white-space: pre-wrap; }
.appendix { break-before: page; page-break-before: always; }
@page { size: A4; margin: 12mm; }
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _font_face(lang: str) -> str:
    """In Chinese, the bundled font embedded (the file then reads the same on any machine)."""
    if lang != "zh" or not fonts.WOFF2.is_file():
        return ""
    data = base64.b64encode(fonts.WOFF2.read_bytes()).decode("ascii")
    return fonts.css_face(f"data:font/woff2;base64,{data}")


def _side(name: str, m: RuralGovernanceModel, lang: str) -> str:
    title, story = load_scenario(m.scenario_name).text(lang)
    parts = [f"<h2>{html.escape((name + ' · ') if name else '')}{html.escape(title)}</h2>",
             f"<p>{html.escape(' '.join(story.split()) if lang != 'zh' else story)}</p>",
             f'<p class="meta">{html.escape(t("seed_short", lang))} {m.seed} · '
             f'{html.escape(t("steps_run", lang).format(steps=m.steps))}</p>']
    changed = getattr(m, "overrides", {})
    if changed:
        items = ", ".join(f"{html.escape(control_label(k, lang))} = {format_value(v, lang)}"
                          for k, v in changed.items())
        parts.append(f"<p>{html.escape(t('changed', lang))}: {items}</p>")
    if m.interventions:  # (one paragraph: the page has room for a long list of them)
        items = "; ".join(
            f"{html.escape(t('from_step', lang).format(step=iv.step))}: "
            + ", ".join(f"{html.escape(control_label(k, lang))} = {format_value(v, lang)}"
                        for k, v in iv.settings.items())
            for iv in m.interventions)
        parts.append(f"<p>{html.escape(t('interventions', lang))}: {items}</p>")
    return f"<div>{''.join(parts)}</div>"


def _numbers(models: dict[str, RuralGovernanceModel], lang: str) -> str:
    """Key numbers: at step 1 and now (one county), or A, B and A − B now (a comparison)."""
    series = {k: m.series() for k, m in models.items()}
    if any(s.empty for s in series.values()):
        return ""
    steps = next(iter(models.values())).steps
    now = html.escape(t("now_step", lang).format(step=steps))
    if len(models) == 1:
        (s,) = series.values()
        head = f"<th>{html.escape(t('step_one', lang))}</th><th>{now}</th>"
        cells = {c: (s[c].iloc[0], s[c].iloc[-1]) for c in KEY_MEASURES}
    else:
        a, b = (series[k] for k in models)
        head = f"<th>A · {now}</th><th>B · {now}</th><th>A − B</th>"
        cells = {c: (a[c].iloc[-1], b[c].iloc[-1], a[c].iloc[-1] - b[c].iloc[-1])
                 for c in KEY_MEASURES}
    rows = "".join(f"<tr><td>{html.escape(measure_label(c, lang))}</td>"
                   + "".join(f"<td>{v:.3g}</td>" for v in values) + "</tr>"
                   for c, values in cells.items())
    return f"<table><tr><th></th>{head}</tr>{rows}</table>"


def _questions(models: dict[str, RuralGovernanceModel], lang: str) -> str:
    """Questions for the room: the story's claims (the first two) as they stood on this run,
    then what the trainees would do."""
    qs = [t("q_claim", lang).format(claim=c.text, status=c.status(lang))
          if c.state in ("holds", "fails", "so_far") else t("q_story", lang).format(claim=c.text)
          for c in S.watch_claims(models, lang)[:2]]
    if len(models) > 1:
        qs.append(t("q_compare", lang))
    qs += [t("q_lever", lang), t("q_county", lang)]
    items = "".join(f"<li>{html.escape(q)}</li>" for q in qs)
    return f"<h2>{html.escape(t('questions', lang))}</h2><ol>{items}</ol>"


def handout_html(models: dict[str, RuralGovernanceModel], layouts: dict[str, S.Layout],
                 lang: str = "en") -> str:
    """The handout of the run(s) now, as one HTML page (and an appendix)."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    body = [f"<h1>{html.escape(t('handout_title', lang))}</h1>",
            f'<p class="meta">{today} · ruralgov {html.escape(__version__)}</p>',
            '<div class="sides">' + "".join(_side(n, m, lang) for n, m in models.items())
            + "</div>",
            _img(V.figure_png(V.series_figure(models, lang, height=3.6)), t("compliance", lang)),
            f'<div class="row{" two" if len(models) > 1 else ""}">'
            + _img(V.figure_png(V.network_figure(models, layouts, lang)), t("network", lang))
            + _img(V.figure_png(V.legitimacy_figure(models, lang)), t("legitimacy", lang))
            + "</div>",
            _numbers(models, lang), _questions(models, lang)]
    appendix = [f"<h2>{html.escape(t('reproduce', lang))}</h2>"]
    appendix += [f"<pre>{html.escape(S.scenario_yaml(m))}</pre>" for m in models.values()]
    return (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{html.escape(t("handout_title", lang))}</title>'
            f"<style>{_font_face(lang)}{_CSS}</style></head><body><main>{''.join(body)}"
            f'</main><section class="appendix">{"".join(appendix)}</section></body></html>')
