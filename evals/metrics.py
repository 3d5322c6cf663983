"""The checks: one small function per check, (case, answer, corpus view) -> what failed. Matching ignores case,
accents and thousands separators. The always-on checks (notes, uncertainty, contact) run on every case."""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

import yaml

from bot.languages import codes
from bot.languages.detect import identifier
from bot.types import Answer
from evals.cases import EvalCase
from index.summaries import sentences

# A number written with thousands separators: one to three digits, then groups of three. Its first group is
# bounded, so a year before a figure ("im Jahr 2023 490,4 Milliarden") stays two numbers.
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:[,.\u202f\u00a0 ']\d{3})+(?![\d])")
CONTENT_LANGUAGE_MIN = 0.8  # share of the prose that must be in the expected language
MAX_UNCERTAINTY_MARKERS = 1
_CITATION = re.compile(r"\[\d+\]")
_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL_ONLY_LINE = re.compile(r"^\s*(?:[-*>]\s*)?<?(?:https?://|www\.)\S+>?\s*(?:\[\d+\])?\s*$")
_LINE_LEAD = re.compile(r"^\s*(?:[-*>]\s+|\d+\.\s+)*")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _THOUSANDS.sub(lambda m: re.sub(r"\D", "", m.group()), text)
    text = re.sub(r"(?<=\d),(?=\d)", ".", text)  # a decimal comma (5,4) reads as a decimal point (5.4)
    return re.sub(r"\s+", " ", text)


@lru_cache(maxsize=1)
def note_patterns() -> list[tuple[re.Pattern, str]]:
    entries = yaml.safe_load((files("evals") / "note_patterns.yaml").read_text(encoding="utf-8"))
    return [(re.compile(e["pattern"], re.IGNORECASE), e["why"]) for e in entries]


@dataclass
class CorpusView:
    """What the checks need from the corpus: organisation names (left out of the prose whose language is measured)
    and the hubs' records (for sector checks)."""

    names: list[str] = field(default_factory=list)
    hubs: dict[str, dict] = field(default_factory=dict)  # hub records, with their S3 areas' titles

    @classmethod
    def from_records(cls, records: dict[str, dict]) -> "CorpusView":
        names: set[str] = set()
        for record in records.values():
            for key in ("title", "name", "name_it", "name_en", "acronym"):
                value = record.get(key)
                if isinstance(value, str) and value.strip():
                    names.add(value.strip())
                    names.update(p.strip(" )") for p in re.split(r" – | \(|, ", value) if len(p.strip()) > 2)
        # a hub's sector words include its S3 areas' titles ("S3 area: Health industry (Industria della salute)")
        hubs = {rid: {**r, "area_titles": [records.get(a, {}).get("title", a) for a in r.get("s3_areas", [])]}
                for rid, r in records.items() if r.get("kind") == "hub"}
        return cls(sorted(names, key=len, reverse=True), hubs)


# --- content and language of the prose -------------------------------------------------------------------------

def prose(text: str, names: list[str]) -> list[str]:
    """The answer's own sentences: no table rows, links, URLs, e-mails, citation markers or organisation names."""
    out = []
    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            continue
        line = _MD_LINK.sub(" ", line)
        line = _CITATION.sub(" ", _EMAIL.sub(" ", _URL.sub(" ", line))).replace("**", "")
        line = _LINE_LEAD.sub("", line)
        for name in names:
            if name in line:
                line = line.replace(name, " ")
        out += [s for s in sentences(line) if sum(ch.isalpha() for ch in s) >= 12]
    return out


def sentence_language(sentence: str) -> str:
    letters = [ch for ch in sentence if ch.isalpha()]
    if letters and sum(bool(_CJK.match(ch)) for ch in letters) / len(letters) >= 0.3:
        return "zh"
    return identifier(codes()).classify(sentence)[0]


def language_share(text: str, lang: str, names: list[str]) -> float | None:
    """Share of the prose's letters in sentences identified as `lang` (None: no prose to judge)."""
    total = hits = 0
    for sentence in prose(text, names):
        weight = sum(ch.isalpha() for ch in sentence)
        total += weight
        hits += weight if sentence_language(sentence) == lang else 0
    return round(hits / total, 3) if total else None


def first_sentence(text: str) -> str:
    for line in text.splitlines():
        line = _LINE_LEAD.sub("", line.replace("**", "")).strip()
        if line and not line.startswith("|"):
            return (sentences(line) or [line])[0]
    return ""


def statements(text: str) -> int:
    """Cited statements outside the hub table: sentences that carry a citation marker."""
    return sum(1 for line in text.splitlines() if not line.lstrip().startswith("|")
               for s in sentences(line) if _CITATION.search(s))


def notes_found(text: str) -> list[str]:
    """Curation notes and raw labels an investor would read: the listed patterns, a line that is only a URL, a
    statement that starts in lower case (a fragment without its subject)."""
    found = [why for pattern, why in note_patterns() if pattern.search(text)]
    for line in text.splitlines():
        if _URL_ONLY_LINE.match(line):
            found.append(f"a line that is only a URL: {line.strip()[:60]}")
            continue
        if line.lstrip().startswith("|"):
            continue
        body = _LINE_LEAD.sub("", line.replace("**", ""))
        pieces = [body, *body.split(" — ")[1:]]  # "Title — it reported …": the quoted part has lost its subject
        fragment = next((p for p in pieces if re.match(r"\s*[a-z]", p) and not _URL.match(p.strip())
                         and not _EMAIL.match(p.strip())), None)
        if fragment:
            found.append(f"a statement that starts in lower case: {fragment.strip()[:60]}")
    return found


@lru_cache(maxsize=1)
def _uncertainty_phrases() -> list[str]:
    return yaml.safe_load((files("evals") / "uncertainty_markers.yaml").read_text(encoding="utf-8"))


def uncertainty_markers(text: str) -> int:
    return sum(text.count(phrase) for phrase in _uncertainty_phrases())


# --- the checks -------------------------------------------------------------------------------------------------

def source_hit(case: EvalCase, answer: Answer) -> bool | None:
    if not case.expect_sources:
        return None
    return any(c.source_id.startswith(prefix) for prefix in case.expect_sources for c in answer.citations)


_NUMERIC = re.compile(r"^[\d.,]+$")


def _found(alternative: str, text: str) -> bool:
    """A number matches only as a whole number ("25" is not in "2025"); anything else as a substring."""
    alternative = normalise(alternative)
    if _NUMERIC.match(alternative):
        # not inside a longer number; a comma before it may be punctuation (Chinese "，2023年" folds to ",2023")
        return re.search(rf"(?<!\d)(?<!\d[.,]){re.escape(alternative)}(?![\d]|[.,]\d)", text) is not None
    return alternative in text


def _groups_found(groups: list[list[str]], text: str) -> list[bool]:
    text = normalise(text)
    return [any(_found(alt, text) for alt in group) for group in groups]


def facts_found(case: EvalCase, answer: Answer) -> list[bool]:
    return _groups_found(case.expect_facts, answer.answer)


def refusal_ok(case: EvalCase, answer: Answer) -> bool:
    return answer.refused == case.expect_refusal


def language_ok(case: EvalCase, answer: Answer) -> bool | None:
    return None if case.language is None else answer.language == case.language


def hub_problems(case: EvalCase, answer: Answer, corpus: CorpusView) -> list[str]:
    problems = []
    n = len(answer.hubs)
    if case.min_hubs is not None and n < case.min_hubs:
        problems.append(f"{n} hubs, at least {case.min_hubs} expected")
    if case.max_hubs is not None and n > case.max_hubs:
        problems.append(f"{n} hubs, at most {case.max_hubs} expected")
    for hub in answer.hubs:
        record = corpus.hubs.get(hub.id, {})
        if case.hub_sector:
            words = normalise(" ".join([hub.name, *hub.sectors, *record.get("sectors", []),
                                        *record.get("s3_areas", []), *record.get("area_titles", [])]))
            if not any(normalise(w) in words for w in case.hub_sector):
                problems.append(f"off-sector hub {hub.id}")
        if case.hub_province and hub.province not in case.hub_province:
            problems.append(f"hub {hub.id} in {hub.province}")
        if case.hub_type and hub.type not in case.hub_type:
            problems.append(f"hub {hub.id} is a {hub.type}")
    return problems


@dataclass
class CheckResult:
    failed: list[str]  # "check: detail", the check's name first
    content_share: float | None = None


def check(case: EvalCase, answer: Answer, corpus: CorpusView) -> CheckResult:
    """Every check the case names, and the always-on ones."""
    failures: list[str] = []
    text = answer.answer
    if not refusal_ok(case, answer):
        failures.append(f"refusal: {'declined' if answer.refused else 'answered'}")
    answered = not case.expect_refusal
    if answered and source_hit(case, answer) is False:
        failures.append("sources: none of " + ", ".join(case.expect_sources))
    missing = [g for g, ok in zip(case.expect_facts, facts_found(case, answer), strict=True) if not ok]
    if answered and missing:
        failures.append("facts: " + "; ".join("/".join(g) for g in missing))
    if language_ok(case, answer) is False:
        failures.append(f"language: labelled {answer.language}")
    share = None
    if case.prose_language:
        share = language_share(text, case.prose_language, corpus.names)
        if share is not None and share < CONTENT_LANGUAGE_MIN:
            failures.append(f"content_language: {share:.0%} {case.prose_language}")
    if answered and case.lead:
        opening = first_sentence(text)
        absent = [g for g, ok in zip(case.lead, _groups_found(case.lead, opening), strict=True) if not ok]
        if absent:
            failures.append("lead: " + "; ".join("/".join(g) for g in absent) + f" not in {opening[:80]!r}")
    hits = [s for s in case.forbid if normalise(s) in normalise(text)]
    if hits:
        failures.append("forbid: " + ", ".join(hits))
    if answered:
        failures += [f"hubs: {p}" for p in hub_problems(case, answer, corpus)]
    if case.max_statements is not None and (count := statements(text)) > case.max_statements:
        failures.append(f"statements: {count} > {case.max_statements}")
    failures += [f"notes: {n}" for n in notes_found(text)]
    if (markers := uncertainty_markers(text)) > MAX_UNCERTAINTY_MARKERS:
        failures.append(f"uncertainty: {markers} markers")
    if answer.refused and not _EMAIL.search(text):
        failures.append("contact: the decline gives no e-mail")
    if case.intent and answer.intent != case.intent:
        failures.append(f"route: {answer.intent}")
    return CheckResult(failures, share)


def check_name(failure: str) -> str:
    return failure.split(":", 1)[0]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
