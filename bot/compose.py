"""The grounded composer: an answer built only from retrieved sentences and records, each one cited.

Pure functions: evidence in, Markdown and citations out. No sentence is written that is not in the corpus;
numbers are never computed or reworded, because whole sentences are quoted.
"""

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.documents import Document

from bot.grounding import cited_numbers
from bot.language import phrases
from bot.retrieve import Hit
from index.lexical import tokenize
from index.sentences import split_sentences

if TYPE_CHECKING:  # the advisor builds on the hub search, which builds on this module's HubRef
    from bot.advisor import Advice

MAX_STATEMENTS = 5
# Sentence scoring: meaning first (cosine), then shared rare words, the chunk's rank and the quote language.
LEXICAL_WEIGHT = 0.004
RANK_WEIGHT = 0.02
LANGUAGE_BONUS = 0.015
SCORE_WINDOW = 0.06  # sentences scoring this far below the best one are not worth quoting
DUPLICATE = 0.95  # cosine above which two sentences say the same thing
SIBLING_RANKS = 4  # the records found by the first hits lend all their chunks to the sentence choice
PROSE_KINDS = {"page", "pdf"}
ORGANISATION_KINDS = {"cluster", "competence_centre", "university", "its", "hub"}
_LABEL = re.compile(r"^[A-Z][\w /&()-]{1,40}:\s")
ADVISOR_STATEMENTS = 2  # quoted statements that open an advisor answer, before its sections
HUB_SECTORS_SHOWN = 3
SNIPPET_JOIN = " … "  # between two sentences quoted from the same chunk
HUB_TYPE_LABEL = {"research_centre": "research centre", "innovation_hub": "innovation hub",
                  "science_park": "science park", "competence_centre": "competence centre",
                  "digital_innovation_hub": "digital innovation hub", "university_tto": "university TTO"}


@dataclass
class Citation:
    n: int
    source_id: str
    title: str
    url: str
    page: int | None
    snippet: str


@dataclass
class HubRef:
    id: str
    name: str
    type: str
    city: str
    province: str
    lat: float
    lon: float
    coord_precision: str
    website: str | None
    sectors: list[str] = field(default_factory=list)


@dataclass
class Composition:
    markdown: str
    citations: list[Citation] = field(default_factory=list)
    hubs: list[HubRef] = field(default_factory=list)


class Citations:
    """Numbers sources in order of first use; a source's snippet gathers every sentence quoted from it."""

    def __init__(self) -> None:
        self.items: list[Citation] = []
        self._by_chunk: dict[str, Citation] = {}

    def cite(self, hit: Hit, sentence: str) -> int:
        chunk_id = hit.doc.metadata.get("chunk_id", hit.doc.id)
        citation = self._by_chunk.get(chunk_id)
        if citation is None:
            meta = hit.doc.metadata
            citation = Citation(len(self.items) + 1, chunk_id, meta.get("title", ""), meta.get("url", ""),
                                meta.get("page"), sentence)
            self.items.append(citation)
            self._by_chunk[chunk_id] = citation
        elif sentence not in citation.snippet:
            citation.snippet += SNIPPET_JOIN + sentence
        return citation.n


SentenceIndex = dict[str, tuple[list[str], np.ndarray]]  # chunk id -> (sentences, their vectors)


def _overlap(sentence: str, query_tokens: set[str], idf: dict[str, float], default_idf: float) -> float:
    return sum(idf.get(t, default_idf) for t in query_tokens.intersection(tokenize(sentence)))


def with_siblings(hits: list[Hit], by_source: dict[str, list[Document]]) -> list[tuple[int, Hit]]:
    """The hits, each followed by the other chunks of its record (a record's website or funding line may sit in
    a chunk the search did not rank), all at the rank of the hit that found the record."""
    out: list[tuple[int, Hit]] = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits):
        if hit.doc.id in seen:
            continue
        seen.add(hit.doc.id or "")
        out.append((rank, hit))
        if rank < SIBLING_RANKS and hit.doc.metadata.get("kind") not in PROSE_KINDS:
            for doc in by_source.get(hit.source_id, []):
                if doc.id not in seen:
                    seen.add(doc.id or "")
                    out.append((rank, Hit(doc, hit.score, None)))
    return out


def pick_statements(query: str, query_vector: list[float], hits: list[Hit], sentence_index: SentenceIndex,
                    by_source: dict[str, list[Document]], idf: dict[str, float], default_idf: float,
                    quote_language: str) -> list[tuple[Hit, str]]:
    """Sentences of the retrieved chunks closest in meaning to the question, near-duplicates (a translation,
    the same sentence in an overlapping chunk) dropped; at most two from one chunk."""
    q = np.asarray(query_vector, dtype=np.float32)
    query_tokens = set(tokenize(query))
    candidates: list[tuple[float, Hit, str, np.ndarray]] = []
    for rank, hit in with_siblings(hits, by_source):
        texts, vectors = sentence_index.get(hit.doc.id or "", ([], np.empty((0, q.size), dtype=np.float32)))
        if not texts:
            continue
        similarity = vectors @ q
        same_language = hit.doc.metadata.get("language") == quote_language
        for text, vector, sim in zip(texts, vectors, similarity, strict=True):
            score = (float(sim) + LEXICAL_WEIGHT * _overlap(text, query_tokens, idf, default_idf)
                     + RANK_WEIGHT * (1 - rank / len(hits)) + (LANGUAGE_BONUS if same_language else 0.0))
            candidates.append((score, hit, text, vector))
    candidates.sort(key=lambda c: -c[0])
    if not candidates:
        return []
    floor = candidates[0][0] - SCORE_WINDOW
    picked: list[tuple[Hit, str]] = []
    picked_vectors: list[np.ndarray] = []
    per_chunk: dict[str, int] = {}
    for score, hit, text, vector in candidates:
        if score < floor or len(picked) == MAX_STATEMENTS:
            break
        if per_chunk.get(hit.doc.id, 0) >= 2 or any(float(v @ vector) > DUPLICATE for v in picked_vectors):
            continue
        per_chunk[hit.doc.id] = per_chunk.get(hit.doc.id, 0) + 1
        picked.append((hit, text))
        picked_vectors.append(vector)
    return picked


def statement(hit: Hit, sentence: str) -> str:
    """A record's labelled line ("Website: ...") is shown with the record's title, so it is clear whose it is; so
    is a sentence about an organisation that does not name it ("Leads the MADE competence centre…")."""
    kind = hit.doc.metadata.get("kind")
    title = hit.doc.metadata.get("title", "")
    if kind not in PROSE_KINDS and (_LABEL.match(sentence) or (kind in ORGANISATION_KINDS
                                                               and title.split(" (")[0] not in sentence)):
        return f"{title} — {sentence}"
    return sentence


def compose_answer(query: str, query_vector: list[float], lang: str, hits: list[Hit], sentence_index: SentenceIndex,
                   by_source: dict[str, list[Document]], idf: dict[str, float], default_idf: float,
                   hubs: list[tuple[Hit, HubRef]], no_hub_here: bool = False,
                   advice: "Advice | None" = None) -> Composition:
    """Quoted statements; for a where-to-locate question, the advisor's sections around the hubs found by the hub
    search (S3 area and cluster, hubs, talent, site scouting); every line cited."""
    words = phrases(lang)
    quote_language = "it" if lang == "it" else "en"
    citations = Citations()
    statements = []
    picked = pick_statements(query, query_vector, hits, sentence_index, by_source, idf, default_idf, quote_language)
    if advice:  # the sections say it better: the opening keeps the statements they do not repeat (a few, when
        # the sections are about the investor's sector)
        in_sections = advice.sentences()
        picked = [(hit, s) for hit, s in picked if s not in in_sections]
        picked = picked[:ADVISOR_STATEMENTS] if advice.sector_specific else picked
    for hit, sentence in picked:
        n = citations.cite(hit, sentence)
        note = f" {words['uncertain']}" if hit.doc.metadata.get("uncertain") else ""
        statements.append(f"{statement(hit, sentence)} [{n}]{note}")
    lines = [words["lead"], "", statements[0], ""] if statements else [words["lead"], ""]
    lines += [f"- {s}" for s in statements[1:]]

    def section(title: str, quoted: list[tuple[Hit, str]]) -> None:
        if quoted:
            lines.extend(["", f"**{title}**", ""])
            lines.extend(f"- {statement(hit, sentence)} [{citations.cite(hit, sentence)}]" for hit, sentence in quoted)

    if advice:
        section(words["s3_area"], advice.area)
        section(words["clusters"], advice.clusters)
    if no_hub_here:
        lines += ["", words["no_hubs"]]
    if hubs:
        lines += ["", f"**{words['hubs']}**", "", f"| {words['hub_cols']} |", "|---|---|---|---|---|"]
    for hit, hub in hubs:
        sentences = split_sentences(hit.doc.page_content)
        n = citations.cite(hit, sentences[0]) if sentences else 0
        for sentence in sentences:  # the Focus column quotes this line: the snippet shows where it comes from
            if sentence.startswith("Sectors:"):
                citations.cite(hit, sentence)
        where = words["approx"] if hub.coord_precision == "city" else words["exact"]
        label = HUB_TYPE_LABEL.get(hub.type, hub.type)
        name = f"[{hub.name}]({hub.website})" if hub.website else hub.name
        focus = ", ".join(hub.sectors[:HUB_SECTORS_SHOWN])
        lines.append(f"| {name} [{n}] | {label} | {hub.city} ({hub.province}) | {focus} | {where} |")
    if advice:
        section(words["talent"], advice.talent)
        section(words["scouting"], advice.scouting)
    return Composition("\n".join(lines).strip(), citations.items, [hub for _, hub in hubs])


def evidence_text(hit: Hit) -> str:
    """A chunk as a language model is shown it: whose it is, where it is published, what it says."""
    meta = hit.doc.metadata
    return f"{meta.get('title', '')} ({meta.get('url', '')})\n{hit.doc.page_content}"


def evidence_citations(answer: str, evidence: list[Hit]) -> list[Citation]:
    """The evidence a model's answer cites, under the numbers it was given, in order of first citation."""
    citations: dict[int, Citation] = {}
    for n in cited_numbers(answer):
        if n not in citations and 1 <= n <= len(evidence):
            meta = evidence[n - 1].doc.metadata
            citations[n] = Citation(n, meta.get("chunk_id", evidence[n - 1].doc.id), meta.get("title", ""),
                                    meta.get("url", ""), meta.get("page"), evidence[n - 1].doc.page_content)
    return list(citations.values())


def compose_refusal(lang: str, reason: str, contact: Hit | None) -> Composition:
    words = phrases(lang)
    text = words["injection" if reason == "injection" else "refusal"]
    if contact is None:
        return Composition(text)
    citations = Citations()
    sentence = next((s for s in split_sentences(contact.doc.page_content) if "@" in s or "http" in s),
                    contact.doc.page_content)
    n = citations.cite(contact, sentence)
    return Composition(f"{text}\n\n> {sentence} [{n}]", citations.items)
