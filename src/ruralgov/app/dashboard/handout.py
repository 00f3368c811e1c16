"""A one-page session handout: what the room saw, as one self-contained HTML file (figures
embedded; prints on A4 from any browser) — each side's scenario and story, what was changed,
the interventions, key numbers at the start and now, the three pictures and the scenario file
that reproduces the run with ``ruralgov run``."""

from __future__ import annotations

import base64
import datetime as dt
import html

from ruralgov import __version__
from ruralgov.app.dashboard import session as S
from ruralgov.app.dashboard import views as V
from ruralgov.app.dashboard.labels import control_label, format_value, series_header, t
from ruralgov.io.scenario import load_scenario
from ruralgov.model import RuralGovernanceModel

__all__ = ["handout_html", "KEY_MEASURES"]

#: The numbers the handout lists for each side, at step 1 and now.
KEY_MEASURES = ("compliance", "petitions_new", "petitions_escalated", "protesters",
                "legitimacy_mean", "substitution_index")

_CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; max-width: 60em;
       margin: 1.5em auto; color: #263238; font-size: 11pt; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin: 1em 0 0.3em; }
.meta, .note { color: #607d8b; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.4em 0; } td, th { padding: 0.15em 0.8em;
  border-bottom: 1px solid #eceff1; text-align: right; } th:first-child, td:first-child {
  text-align: left; }
img { width: 100%; } .pair { display: flex; gap: 1em; } .pair img { width: 50%; }
pre { background: #f5f5f5; padding: 0.6em; font-size: 0.8em; white-space: pre-wrap; }
@page { size: A4; margin: 12mm; }
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _side(name: str, m: RuralGovernanceModel, lang: str) -> str:
    sc = load_scenario(m.scenario_name)
    title, story = sc.text(lang)
    parts = [f"<h2>{html.escape((name + ' ') if name else '')}{html.escape(title)}</h2>",
             f"<p>{html.escape(story)}</p>",
             f'<p class="meta">{html.escape(t("seed_short", lang))} {m.seed} · '
             f'{html.escape(t("steps_run", lang).format(steps=m.steps))}</p>']
    changed = getattr(m, "overrides", {})
    if changed:
        items = ", ".join(f"{html.escape(control_label(k, lang))} = {format_value(v, lang)}"
                          for k, v in changed.items())
        parts.append(f"<p>{html.escape(t('changed', lang))}: {items}</p>")
    if m.interventions:
        rows = "".join(
            f"<li>{html.escape(t('from_step', lang).format(step=iv.step))}: "
            + ", ".join(f"{html.escape(control_label(k, lang))} = {format_value(v, lang)}"
                        for k, v in iv.settings.items()) + "</li>"
            for iv in m.interventions)
        parts.append(f"<p>{html.escape(t('interventions', lang))}:</p><ul>{rows}</ul>")
    series = m.series()
    if not series.empty:
        first, now = series.iloc[0], series.iloc[-1]
        rows = "".join(
            f"<tr><td>{html.escape(series_header(c, lang) if lang == 'zh' else c)}</td>"
            f"<td>{first[c]:.3g}</td><td>{now[c]:.3g}</td></tr>" for c in KEY_MEASURES)
        parts.append(f"<table><tr><th></th><th>{html.escape(t('step_one', lang))}</th>"
                     f"<th>{html.escape(t('now_step', lang).format(step=m.steps))}</th></tr>"
                     f"{rows}</table>")
    return "".join(parts)


def handout_html(models: dict[str, RuralGovernanceModel], layouts: dict[str, S.Layout],
                 lang: str = "en") -> str:
    """The handout of the run(s) now, as one HTML page."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    body = [f"<h1>{html.escape(t('handout_title', lang))}</h1>",
            f'<p class="meta">{today} · ruralgov {html.escape(__version__)}</p>']
    body += [_side(name, m, lang) for name, m in models.items()]
    body.append(_img(V.figure_png(V.series_figure(models, lang)), t("compliance", lang)))
    body.append('<div class="pair">'
                + _img(V.figure_png(V.network_figure(models, layouts, lang)),
                       t("network", lang))
                + _img(V.figure_png(V.legitimacy_figure(models, lang)), t("legitimacy", lang))
                + "</div>")
    body.append(f"<h2>{html.escape(t('reproduce', lang))}</h2>")
    for m in models.values():
        body.append(f"<pre>{html.escape(S.scenario_yaml(m))}</pre>")
    return (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{html.escape(t("handout_title", lang))}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>")
