"""Runs eval cases through the same code path as `investbot ask` and summarises the results."""

import subprocess
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.answer import Bot, standalone_query
from bot.types import Answer
from evals.cases import EvalCase
from evals.metrics import (
    CONTENT_LANGUAGE_MIN,
    CheckResult,
    CorpusView,
    check,
    check_name,
    facts_found,
    language_ok,
    percentile,
    refusal_ok,
    source_hit,
)

# The CI gate on the default sets (the 410-case public set and the 330-case routing set), as measured when the bot
# last improved: 95.0 % here, 94.9 % on a clean clone (which builds its index anew). The one place it is set; it is
# raised when the bot improves and never lowered.
PASS_RATE_GATE = 0.945
CONSISTENT_HUBS = 3  # variants must show the same first hubs


@dataclass
class CaseResult:
    id: str
    category: str
    language: str | None
    question: str
    passed: bool
    failed: list[str]
    latency_ms: float
    answer: dict = field(default_factory=dict)
    content_share: float | None = None  # share of the prose in the expected language


@dataclass
class Report:
    summary: dict
    results: list[CaseResult]

    def as_dict(self) -> dict:
        return {"summary": self.summary, "results": [asdict(r) for r in self.results]}


def _rate(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def _breakdown(results: list[CaseResult], key: str) -> dict[str, dict]:
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        groups[str(getattr(r, key) or "-")].append(r)
    return {k: {"n": len(v), "passed": sum(r.passed for r in v), "pass_rate": _rate([r.passed for r in v])}
            for k, v in sorted(groups.items())}


def _variant_view(answer: Answer) -> dict:
    """What the same question must share in every language: the decision, the route, the S3 area and clusters
    cited, the first three hubs."""
    cited = sorted({c.source_id.split("#")[0] for c in answer.citations if c.source_id.startswith(("s3:", "cluster:"))})
    return {"refused": answer.refused, "intent": getattr(answer, "intent", None), "areas_and_clusters": cited,
            "first_hubs": sorted(h.id for h in answer.hubs[:CONSISTENT_HUBS])}


def consistency(cases: list[EvalCase], answers: dict[str, Answer]) -> tuple[list[dict], int]:
    """Compares each variant with the case it translates; returns the disagreements and the pairs compared."""
    disagreements, pairs = [], 0
    for case in cases:
        if not case.variant_of or case.variant_of not in answers:
            continue
        pairs += 1
        ours, theirs = _variant_view(answers[case.id]), _variant_view(answers[case.variant_of])
        differ = {k: {"this": ours[k], "original": theirs[k]} for k in ours if ours[k] != theirs[k]}
        if differ:
            disagreements.append({"id": case.id, "variant_of": case.variant_of, "differ": differ})
    return disagreements, pairs


def run_cases(bot: Bot, cases: list[EvalCase]) -> Report:
    results: list[CaseResult] = []
    answers: dict[str, Answer] = {}
    checked: dict[str, CheckResult] = {}
    corpus = CorpusView.from_records(bot.retriever.records)
    known = {d.metadata["source_id"] for d in bot.retriever.chunks}
    invented: list[str] = []
    latencies: dict[str, float] = {}
    for case in cases:
        started = time.perf_counter()
        answer = bot.answer(case.question, history=[t.model_dump() for t in case.history])
        latencies[case.id] = (time.perf_counter() - started) * 1000
        invented += [c.source_id for c in answer.citations if c.source_id.split("#")[0] not in known]
        answers[case.id] = answer
        checked[case.id] = check(case, answer, corpus)
    disagreements, pairs = consistency(cases, answers)
    for d in disagreements:
        checked[d["id"]].failed.append("consistency: differs from " + d["variant_of"] + " in "
                                       + ", ".join(d["differ"]))
    for case in cases:
        c = checked[case.id]
        results.append(CaseResult(case.id, case.category, case.language, case.question, not c.failed, c.failed,
                                  round(latencies[case.id], 1), answers[case.id].to_dict(), c.content_share))
    by_case = {case.id: case for case in cases}
    pairs_ = [(by_case[r.id], answers[r.id]) for r in results]
    fact_groups = [ok for case, answer in pairs_ if not case.expect_refusal for ok in facts_found(case, answer)]
    shares = [r for r in results if r.content_share is not None]
    summary = {
        "run": {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": _commit(),
                "corpus_version": bot.retriever.state.built_at, "backend": bot.model.name if bot.model else "grounded"},
        "cases": len(results),
        "passed": sum(r.passed for r in results),
        "pass_rate": _rate([r.passed for r in results]),
        "source_hit_rate": _rate([h for c, a in pairs_ if not c.expect_refusal
                                  if (h := source_hit(c, a)) is not None]),
        "fact_recall": _rate(fact_groups),
        "refusal_accuracy_should_refuse": _rate([refusal_ok(c, a) for c, a in pairs_ if c.expect_refusal]),
        "refusal_accuracy_should_answer": _rate([refusal_ok(c, a) for c, a in pairs_ if not c.expect_refusal]),
        "language_accuracy": _rate([ok for c, a in pairs_ if (ok := language_ok(c, a)) is not None]),
        "content_language_accuracy": _rate([r.content_share >= CONTENT_LANGUAGE_MIN for r in shares]),
        "route_accuracy": _rate([answers[c.id].intent == c.intent for c in cases if c.intent]),
        "route_confusion": _confusion(cases, answers),
        "consistency_rate": _rate([True] * (pairs - len(disagreements)) + [False] * len(disagreements)),
        "latency_ms_p50": round(percentile(list(latencies.values()), 50), 1),
        "latency_ms_p95": round(percentile(list(latencies.values()), 95), 1),
        "invented_sources": sorted(set(invented)),
        "backend": bot.model.name if bot.model else "grounded",
        "llm_fallbacks": sum(a.backend.startswith("grounded (llm fallback") for a in answers.values()),
        "by_check": _by_check(results),
        "by_category": _breakdown(results, "category"),
        "by_language": _breakdown(results, "language"),
        "disagreements": disagreements,
    }
    return Report(summary, results)


def _confusion(cases: list[EvalCase], answers: dict[str, Answer]) -> list[dict]:
    """Routed to what instead of what, most frequent first."""
    pairs = Counter((c.intent, answers[c.id].intent) for c in cases if c.intent and answers[c.id].intent != c.intent)
    return [{"expected": e, "routed": r, "cases": n} for (e, r), n in pairs.most_common()]


def _commit() -> str:
    """The code's commit, so a report says what it measured ("unknown" outside a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def _by_check(results: list[CaseResult]) -> dict[str, int]:
    """How many cases failed each check (a case counts once per check)."""
    counts: dict[str, int] = defaultdict(int)
    for r in results:
        for name in {check_name(f) for f in r.failed}:
            counts[name] += 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def run_retrieval(bot: Bot, cases: list[EvalCase], ks: tuple[int, ...] = (1, 3, 5)) -> Report:
    """Ranks without composing: recall@k and MRR of the expected sources, by source (not chunk)."""
    results: list[CaseResult] = []
    recalls: dict[int, list[bool]] = {k: [] for k in ks}
    reciprocal: list[float] = []
    for case in cases:
        if case.expect_refusal or not case.expect_sources:
            continue
        started = time.perf_counter()
        query = standalone_query(case.question, [t.model_dump() for t in case.history])
        hits = bot.retriever.search(query, k=max(ks) * 3, lang=case.language).hits
        sources = list(dict.fromkeys(h.source_id for h in hits))  # ranks count sources, not chunks
        first = next((sources.index(h.source_id) for h in hits
                      if h.doc.id.startswith(tuple(case.expect_sources))), None)
        for k in ks:
            recalls[k].append(first is not None and first < k)
        reciprocal.append(1 / (first + 1) if first is not None else 0.0)
        results.append(CaseResult(case.id, case.category, case.language, case.question,
                                  first is not None and first < ks[-1],
                                  [] if first is not None else ["not retrieved"],
                                  round((time.perf_counter() - started) * 1000, 1), {"ranked_sources": sources[:10]}))
    summary = {"cases": len(results), **{f"recall@{k}": _rate(v) for k, v in recalls.items()},
               "mrr": round(sum(reciprocal) / len(reciprocal), 4) if reciprocal else None,
               "by_category": _breakdown(results, "category")}
    return Report(summary, results)
