"""Reports for evaluators: a terminal table, Markdown, and a self-contained HTML page (no CDN)."""

import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from evals.runner import Report

SUMMARY_LABELS = [
    ("pass_rate", "Pass rate"), ("source_hit_rate", "Source hit rate"), ("fact_recall", "Fact recall"),
    ("refusal_accuracy_should_refuse", "Refusal accuracy (should refuse)"),
    ("refusal_accuracy_should_answer", "Refusal accuracy (should answer)"),
    ("language_accuracy", "Language label accuracy"), ("content_language_accuracy", "Content-language accuracy"),
    ("consistency_rate", "Cross-language consistency"), ("route_accuracy", "Route accuracy"),
    ("recall@1", "Recall@1"), ("recall@3", "Recall@3"),
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


def run_line(s: dict) -> str:
    run = s.get("run")
    return (f"Run {run['date']}, commit {run['commit']}, corpus version {run['corpus_version']}, "
            f"backend {backend(s)}") if run else ""


def summary_text(report: Report) -> str:
    s = report.summary
    lines = [line for line in [run_line(s)] if line]
    lines.append(f"cases {s['cases']}" + (f", passed {s['passed']}" if "passed" in s else ""))
    lines += [f"{label}: {_fmt(s[key])}" for key, label in SUMMARY_LABELS if key in s]
    if "latency_ms_p50" in s:
        lines.append(f"Latency p50 {s['latency_ms_p50']} ms, p95 {s['latency_ms_p95']} ms; backend {backend(s)}")
        lines.append(f"Invented source ids: {len(s['invented_sources'])}")
    if "by_check" in s:
        lines.append("cases failing each check: " + (", ".join(f"{k} {v}" for k, v in s["by_check"].items())
                                                    or "none"))
    for name in ("by_category", "by_language"):
        if name in s:
            parts = [f"{k} {v['passed']}/{v['n']}" for k, v in s[name].items()]
            lines.append(f"{name.replace('_', ' ')}: " + ", ".join(parts))
    if s.get("route_confusion"):
        lines.append("routed wrongly (expected -> routed: cases): " + ", ".join(
            f"{c['expected']} -> {c['routed']}: {c['cases']}" for c in s["route_confusion"]))
    if s.get("disagreements"):
        lines.append(f"variants that disagree: {len(s['disagreements'])} (listed in report.md)")
    return "\n".join(lines)


def markdown(report: Report) -> str:
    s = report.summary
    out = ["# investbot eval report", "", run_line(s), "", "| metric | value |", "|---|---|"]
    out += [f"| {label} | {_fmt(s[key])} |" for key, label in SUMMARY_LABELS if key in s]
    if "latency_ms_p50" in s:
        out += [f"| Latency p50 / p95 | {s['latency_ms_p50']} / {s['latency_ms_p95']} ms |",
                f"| Backend | {backend(s)} |", f"| Invented source ids | {len(s['invented_sources'])} |"]
    if "by_check" in s:
        out += ["", "## Cases failing each check", "", "| check | cases failing |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in s["by_check"].items()]
    for name in ("by_language", "by_category"):
        if name in s:
            out += ["", f"## {name.replace('_', ' ').capitalize()}", "", "| | passed | cases | pass rate |",
                    "|---|---|---|---|"]
            out += [f"| {k} | {v['passed']} | {v['n']} | {_fmt(v['pass_rate'])} |" for k, v in s[name].items()]
    if s.get("route_confusion"):
        out += ["", "## Route confusion", "", "| expected | routed | cases |", "|---|---|---|"]
        out += [f"| {c['expected']} | {c['routed']} | {c['cases']} |" for c in s["route_confusion"]]
    if s.get("disagreements"):
        out += ["", f"## Variants that disagree ({len(s['disagreements'])})", ""]
        out += [f"- {d['id']} vs {d['variant_of']}: " + "; ".join(f"{k}: {v['this']} vs {v['original']}"
                                                                   for k, v in d["differ"].items())
                for d in s["disagreements"]]
    failing = [r for r in report.results if not r.passed]
    out += ["", f"## Failing cases ({len(failing)})", ""]
    for r in failing:
        out += [f"### {r.id} ({r.category})", "", f"**Question:** {r.question}", "",
                f"**Failed:** {'; '.join(r.failed)}", ""]
        if r.answer.get("answer"):
            out += ["```", r.answer["answer"], "```", ""]
    return "\n".join(out)


def html_page(report: Report) -> str:
    s = report.summary
    cards = [(label, _fmt(s[key])) for key, label in SUMMARY_LABELS if key in s]
    if "latency_ms_p50" in s:
        cards += [("Latency p50 / p95", f"{s['latency_ms_p50']} / {s['latency_ms_p95']} ms"),
                  ("Backend", backend(s)), ("Invented source ids", str(len(s["invented_sources"])))]
    env = Environment(loader=PackageLoader("evals", ""), autoescape=select_autoescape(default=True))
    return env.get_template("report.html.j2").render(
        s=s, run_line=run_line(s), cards=cards, failing=[r for r in report.results if not r.passed])


def write_reports(report: Report, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / "report.html"]
    paths[0].write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    paths[1].write_text(markdown(report), encoding="utf-8")
    paths[2].write_text(html_page(report), encoding="utf-8")
    return paths
