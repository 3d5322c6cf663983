"""One small function per check: (case, answer) -> result. Matching ignores case, accents and thousands separators."""

import re
import unicodedata

from bot.answer import Answer
from evals.cases import EvalCase

_THOUSANDS = re.compile(r"(?<=\d)[,.\u202f\u00a0 '](?=\d{3}(?!\d))")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _THOUSANDS.sub("", text)
    return re.sub(r"\s+", " ", text)


def source_hit(case: EvalCase, answer: Answer) -> bool | None:
    if not case.expect_sources:
        return None
    return any(c.source_id.startswith(prefix) for prefix in case.expect_sources for c in answer.citations)


def facts_found(case: EvalCase, answer: Answer) -> list[bool]:
    text = normalise(answer.answer)
    return [any(normalise(alt) in text for alt in group) for group in case.expect_facts]


def refusal_ok(case: EvalCase, answer: Answer) -> bool:
    return answer.refused == case.expect_refusal


def language_ok(case: EvalCase, answer: Answer) -> bool | None:
    return None if case.language is None else answer.language == case.language


def failed_checks(case: EvalCase, answer: Answer) -> list[str]:
    failures = []
    if not refusal_ok(case, answer):
        failures.append("refusal")
    if not case.expect_refusal and source_hit(case, answer) is False:
        failures.append("sources")
    missing = [group for group, ok in zip(case.expect_facts, facts_found(case, answer), strict=True) if not ok]
    if missing and not case.expect_refusal:
        failures.append("facts: " + "; ".join("/".join(group) for group in missing))
    if language_ok(case, answer) is False:
        failures.append(f"language ({answer.language})")
    return failures


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
