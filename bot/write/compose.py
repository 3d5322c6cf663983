"""The grounded composer: an answer built only from retrieved sentences and records, each one cited.

Pure functions: evidence in, Markdown and citations out. No sentence is written that is not in the corpus;
numbers are never computed or reworded, because whole sentences are quoted.
"""

import re

import numpy as np
from langchain_core.documents import Document

from bot.find.retrieve import Hit
from bot.languages.detect import phrases
from bot.model.grounding import cited_numbers
from bot.tuning import DUPLICATE, LANGUAGE_BONUS, RANK_WEIGHT, SCORE_WINDOW, SENTENCE_LEXICAL_WEIGHT
from bot.types import Citation, Composition, HubRef
from index.lexical import tokenize
from index.sentences import split_sentences

MAX_STATEMENTS = 5
SIBLING_RANKS = 4  # the records found by the first hits lend all their chunks to the sentence choice
PROSE_KINDS = {"page", "pdf"}
ORGANISATION_KINDS = {"cluster", "competence_centre", "university", "its", "hub"}
_LABEL = re.compile(r"^[A-Z][\w /&()-]{1,40}:\s")
HUB_SECTORS_SHOWN = 3
SNIPPET_JOIN = " … "  # between two sentences quoted from the same chunk


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
            score = (float(sim) + SENTENCE_LEXICAL_WEIGHT * _overlap(text, query_tokens, idf, default_idf)
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
    if hit.doc.metadata.get("summary_of"):
        return sentence  # a summary names its subject, in the reader's language
    if kind not in PROSE_KINDS and (_LABEL.match(sentence) or (kind in ORGANISATION_KINDS
                                                               and title.split(" (")[0] not in sentence)):
        return f"{title} — {sentence}"
    return sentence


class Writer:
    """An answer being written: lines of Markdown, each statement cited, in one language's phrases."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.words = phrases(lang)
        self.citations = Citations()
        self.lines: list[str] = []
        self.hubs: list[HubRef] = []

    def cite(self, hit: Hit, text: str, shown: str | None = None) -> str:
        """`text` as the citation's snippet shows it (the source's own words), `shown` as the answer says it."""
        return f"{shown or text} [{self.citations.cite(hit, text)}]"

    def lead(self, text: str, hit: Hit | None = None) -> None:
        """The answer's first paragraph: what was asked, first."""
        self.lines += [self.cite(hit, text) if hit else text, ""]

    def bullets(self, quoted: list[tuple[Hit, str]]) -> None:
        self.lines += [f"- {self.cite(hit, text, statement(hit, text))}" for hit, text in quoted]

    def section(self, title: str, quoted: list[tuple[Hit, str]]) -> None:
        if quoted:
            self.lines += ([] if self.lines[-1:] == [""] else [""]) + [f"**{title}**", ""]
            self.bullets(quoted)

    def text(self, line: str) -> None:
        self.lines += ["", line]

    def hub_table(self, hubs: list[tuple[Hit, HubRef]], no_hub_here: bool = False) -> None:
        words = self.words
        gap = [] if self.lines[-1:] == [""] else [""]
        if no_hub_here:
            self.lines += [*gap, words["no_hubs"], ""]
            gap = []
        if hubs:
            self.lines += [*gap, f"**{words['hubs']}**", "", f"| {words['hub_cols']} |", "|---|---|---|---|---|"]
        for hit, hub in hubs:
            sentences = split_sentences(hit.doc.page_content)
            n = self.citations.cite(hit, sentences[0] if sentences else hit.doc.page_content)
            where = words["approx"] if hub.coord_precision == "city" else words["exact"]
            label = words.get("hub_types", {}).get(hub.type, hub.type.replace("_", " "))
            name = f"[{hub.name}]({hub.website})" if hub.website else hub.name
            focus = ", ".join(hub.sectors[:HUB_SECTORS_SHOWN])
            self.lines.append(f"| {name} [{n}] | {label} | {hub.city} ({hub.province}) | {focus} | {where} |")
            self.hubs.append(hub)

    def done(self) -> Composition:
        return Composition("\n".join(self.lines).strip(), self.citations.items, self.hubs)


def compose_answer(query: str, query_vector: list[float], lang: str, hits: list[Hit], sentence_index: SentenceIndex,
                   by_source: dict[str, list[Document]], idf: dict[str, float], default_idf: float) -> Composition:
    """The free-text answer: the sentences of the retrieved chunks closest in meaning to the question, the best
    first, every one cited. Sentences in another language than the question's are labelled as quotes."""
    writer = Writer(lang)
    picked = pick_statements(query, query_vector, hits, sentence_index, by_source, idf, default_idf, lang)
    own = [(hit, s) for hit, s in picked if hit.doc.metadata.get("language") == lang]
    quoted = [(hit, s) for hit, s in picked if hit.doc.metadata.get("language") != lang]
    if own:
        writer.lines += [writer.cite(own[0][0], own[0][1], statement(*own[0])), ""]
        writer.bullets(own[1:])
    if quoted:
        writer.section(writer.words["quoted"], quoted)
    return writer.done()


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


def compose_refusal(lang: str, reason: str, contact: tuple[Hit, str] | None) -> Composition:
    """The decline in the investor's language, with the agency's contact (its summary in that language)."""
    words = phrases(lang)
    text = words["injection" if reason == "injection" else "refusal"]
    if contact is None:
        return Composition(text)
    citations = Citations()
    hit, line = contact
    return Composition(f"{text}\n\n> {line} [{citations.cite(hit, line)}]", citations.items)
