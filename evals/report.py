"""Reports for evaluators: a terminal table, Markdown, and a self-contained HTML page (no CDN)."""

import html
import json
from pathlib import Path

from evals.runner import Report

SUMMARY_LABELS = [
    ("pass_rate", "Pass rate"), ("source_hit_rate", "Source hit rate"), ("fact_recall", "Fact recall"),
    ("refusal_accuracy_should_refuse", "Refusal accuracy (should refuse)"),
    ("refusal_accuracy_should_answer", "Refusal accuracy (should answer)"),
    ("language_accuracy", "Language accuracy"), ("recall@1", "Recall@1"), ("recall@3", "Recall@3"),
    ("recall@5", "Recall@5"), ("mrr", "MRR"),
]


def _fmt(value: object) -> str:
    if isinstance(value, float) and value <= 1.0:
        return f"{value:.1%}"
    return "n/a" if value is None else str(value)


def table(report: Report) -> str:
    rows = [f"{'id':32} {'result':6} {'ms':>7}  failed checks"]
    for r in report.results:
        rows.append(f"{r.id[:32]:32} {'pass' if r.passed else 'FAIL':6} {r.latency_ms:7.1f}  {'; '.join(r.failed)}")
    return "\n".join(rows) + "\n\n" + summary_text(report)


def backend(s: dict) -> str:
    """Which backend answered; with a language model, how many of its answers the grounded one replaced."""
    if s["backend"] == "grounded":
        return "grounded"
    return f"{s['backend']} (fallbacks to grounded: {s.get('llm_fallbacks', 0)})"


def summary_text(report: Report) -> str:
    s = report.summary
    lines = [f"cases {s['cases']}" + (f", passed {s['passed']}" if "passed" in s else "")]
    lines += [f"{label}: {_fmt(s[key])}" for key, label in SUMMARY_LABELS if key in s]
    if "latency_ms_p50" in s:
        lines.append(f"Latency p50 {s['latency_ms_p50']} ms, p95 {s['latency_ms_p95']} ms; backend {backend(s)}")
        lines.append(f"Invented source ids: {len(s['invented_sources'])}")
    for name in ("by_category", "by_language"):
        if name in s:
            parts = [f"{k} {v['passed']}/{v['n']}" for k, v in s[name].items()]
            lines.append(f"{name.replace('_', ' ')}: " + ", ".join(parts))
    return "\n".join(lines)


def markdown(report: Report) -> str:
    s = report.summary
    out = ["# investbot eval report", "", "| metric | value |", "|---|---|"]
    out += [f"| {label} | {_fmt(s[key])} |" for key, label in SUMMARY_LABELS if key in s]
    if "latency_ms_p50" in s:
        out += [f"| Latency p50 / p95 | {s['latency_ms_p50']} / {s['latency_ms_p95']} ms |",
                f"| Backend | {backend(s)} |", f"| Invented source ids | {len(s['invented_sources'])} |"]
    out += ["", "## By category", "", "| category | passed | cases |", "|---|---|---|"]
    out += [f"| {k} | {v['passed']} | {v['n']} |" for k, v in s["by_category"].items()]
    failing = [r for r in report.results if not r.passed]
    out += ["", f"## Failing cases ({len(failing)})", ""]
    for r in failing:
        out += [f"### {r.id} ({r.category})", "", f"**Question:** {r.question}", "",
                f"**Failed:** {'; '.join(r.failed)}", ""]
        if r.answer.get("answer"):
            out += ["```", r.answer["answer"], "```", ""]
    return "\n".join(out)


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2733;background:#f6f8fa}
h1{margin-top:0}.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{background:#fff;border-radius:8px;
padding:.8rem 1rem;box-shadow:0 1px 3px #0002;min-width:11rem}.card b{display:block;font-size:1.6rem}
.bar{display:flex;align-items:center;gap:.5rem;margin:.25rem 0}.bar span.l{width:11rem}.bar .t{flex:1;
background:#e3e8ee;border-radius:4px;height:1.1rem;max-width:30rem}.bar .f{background:#2e7d32;height:100%;
border-radius:4px}.fail{background:#fff;border-left:4px solid #c62828;padding:.6rem 1rem;margin:.8rem 0}
pre{white-space:pre-wrap;background:#f0f2f5;padding:.6rem}small{color:#555}"""


def html_page(report: Report) -> str:
    s = report.summary
    esc = html.escape
    cards = "".join(f'<div class="card">{esc(label)}<b>{esc(_fmt(s[key]))}</b></div>'
                    for key, label in SUMMARY_LABELS if key in s)
    if "latency_ms_p50" in s:
        cards += (f'<div class="card">Latency p50 / p95<b>{s["latency_ms_p50"]} / {s["latency_ms_p95"]} ms</b></div>'
                  f'<div class="card">Backend<b>{esc(backend(s))}</b></div>'
                  f'<div class="card">Invented source ids<b>{len(s["invented_sources"])}</b></div>')
    bars = "".join(
        f'<div class="bar"><span class="l">{esc(k)}</span><div class="t"><div class="f" '
        f'style="width:{100 * (v["pass_rate"] or 0):.0f}%"></div></div><span>{v["passed"]}/{v["n"]}</span></div>'
        for k, v in s["by_category"].items())
    failing = []
    for r in report.results:
        if r.passed:
            continue
        cites = "".join(f"<li>[{c['n']}] <code>{esc(c['source_id'])}</code> {esc(c['title'])}<br>"
                        f"<small>{esc(c['snippet'][:300])}</small></li>" for c in r.answer.get("citations", []))
        failing.append(f'<div class="fail"><b>{esc(r.id)}</b> <small>({esc(r.category)})</small><br>'
                       f"{esc(r.question)}<br><b>Failed:</b> {esc('; '.join(r.failed))}"
                       f"<pre>{esc(r.answer.get('answer', ''))}</pre><ol>{cites}</ol></div>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>investbot eval report</title>'
            f"<style>{_CSS}</style></head><body><h1>investbot eval report</h1>"
            f'<div class="cards">{cards}</div><h2>Pass rate by category</h2>{bars}'
            f"<h2>Failing answers ({len(failing)})</h2>{''.join(failing) or '<p>None.</p>'}</body></html>")


def write_reports(report: Report, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / "report.html"]
    paths[0].write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    paths[1].write_text(markdown(report), encoding="utf-8")
    paths[2].write_text(html_page(report), encoding="utf-8")
    return paths
