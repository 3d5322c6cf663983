"""The core API: `Bot.answer(question, history, lang) -> Answer`, the answer object of DESIGN.md."""

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from functools import partial

from chromadb.api import ClientAPI

from bot.advisor import CONTACT_SOURCE, Advice, Advisor
from bot.compose import Citation, HubRef, compose_answer, compose_refusal, evidence_citations, evidence_text
from bot.gazetteer import Place, find_place
from bot.hubs import HubSearch
from bot.language import detect_language
from bot.llm import ModelBackend, chat_model
from bot.retrieve import Hit, HybridRetriever
from bot.scope import ScopeGuard
from bot.settings import Settings
from index.build import build_index
from index.store import IndexMissing, open_client, read_state

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 2000
HUBS_SHOWN = 6
EVIDENCE_CHUNKS = 6  # retrieved chunks a language model is given, besides the hubs' records
WARM_UP_QUESTION = "Where near Milano should a medical devices company set up R&D?"
NEAR_KM = 25  # "near <town>": hubs within this great-circle distance
# Words that open a follow-up ("and in Bergamo?", "e a Brescia?", "und in Como?", "et à Pavie ?", "y en…").
_FOLLOW_UP = re.compile(r"^\s*(?:and|what about|how about|also|e|ed|anche|und|et|y|también|那|还有)\b", re.IGNORECASE)
# Questions about where to set up a business get the advisor's sections (S3 area, cluster, talent, scouting)…
_SETTLE = re.compile(r"\b(?:locate\b|locating|relocat|set up|setting up|settle|establish|install|open (?:an? |our )"
                     r"(?:office|plant|site|lab)|insedi|stabilir|ansiedel|niederlass|standort|implant|instal|"
                     r"ubicar|establec)|选址|设立|落户", re.IGNORECASE)
# Questions about reaching the agency get its offer and address, whatever else retrieval brings.
_CONTACT = re.compile(r"\b(?:contact|contatt|kontakt|e-?mail|reach you|erreichen|joindre)|联系|联络",
                      re.IGNORECASE)
# …and questions about setting up, about where things are or about centres get the hub table.
_HUBS = re.compile(r"\b(?:where|hub|hubs|incubat|accelerat|research cent|park|locat|dove|dónde|wo\b|où|"
                   r"centri|zentr|centre|centro)|哪里|在哪", re.IGNORECASE)


class BadQuestion(ValueError):
    """A question that cannot be answered as asked (empty, too long); the message says why."""


class QuestionTooLong(BadQuestion):
    pass


@dataclass
class Answer:
    question: str
    answer: str
    language: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    hubs: list[HubRef] = field(default_factory=list)
    backend: str = "grounded"
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def standalone_query(question: str, history: list[dict]) -> str:
    """A short or connective follow-up is searched together with the investor's previous question."""
    earlier = [t["content"] for t in history if t.get("role") == "user" and t.get("content")]
    if earlier and (_FOLLOW_UP.match(question) or len(question.split()) <= 4):
        return f"{earlier[-1]} {question}"
    return question


class Bot:
    def __init__(self, retriever: HybridRetriever, guard: ScopeGuard, model: ModelBackend | None = None) -> None:
        self.retriever = retriever
        self.guard = guard
        self.model = model
        self._lock = threading.Lock()
        self.hub_search = HubSearch(retriever, guard.geo_dir)
        self.advisor = Advisor(retriever, self.hub_search, guard.geo_dir)
        contact = next((d for d in retriever.chunks if d.metadata.get("source_id") == CONTACT_SOURCE), None)
        self._contact = Hit(contact, 0.0, None) if contact else None

    @classmethod
    def from_settings(cls, settings: Settings, client: ClientAPI | None = None) -> "Bot":
        chat = chat_model(settings)  # before indexing: a misconfigured model should not wait a minute to say so
        client = client or open_client(settings.data_dir, settings.chroma_host, settings.chroma_port)
        ensure_index(client, settings)
        retriever = HybridRetriever(client)
        model = ModelBackend.from_settings(settings, chat, corpus_texts(retriever)) if chat else None
        bot = cls(retriever, ScopeGuard(retriever.embeddings, settings.corpus_dir / "geo", settings.relevance_floor),
                  model)
        bot.warm_up()
        return bot

    def advise_hubs(self, place: Place | None, query: str, query_vector: list[float],
                    area: str | None = None) -> tuple[list[tuple[Hit, HubRef]], bool]:
        """Hubs for a where-to-go question: in the place it names (a province or area, or near a town), ranked
        by how well they fit the question's sector (those in its S3 area first); where the place has none, the
        nearest ones that fit."""
        search = partial(self.hub_search.search, sector_vector=query_vector, prefer_area=area)
        if place is None:
            matches = search(sector=query, limit=HUBS_SHOWN)
        elif place.kind == "municipality":
            matches = search(sector=query, near=place, km=NEAR_KM, limit=HUBS_SHOWN)
        else:
            matches = search(sector=query, province=place.province, limit=HUBS_SHOWN)
        no_hub_here = place is not None and not matches
        if no_hub_here:
            matches = search(sector=query, near=place, limit=3)
        return [(Hit(self.retriever.by_source[m.hub.id][0], 0.0, None), m.hub) for m in matches], no_hub_here

    def warm_up(self) -> None:
        """Load what the first questions would otherwise wait for, seconds under load: place names, off-topic
        vectors, the hub and advisor tables. The grounded path only: no language-model call at start-up."""
        started = time.perf_counter()
        detect_language(WARM_UP_QUESTION)  # loads the language identifier
        self._grounded(WARM_UP_QUESTION, WARM_UP_QUESTION, "en", started)
        log.info("warmed up in %.1f s", time.perf_counter() - started)

    def answer(self, question: str, history: list[dict] | None = None, lang: str | None = None) -> Answer:
        *_, final = self.stream(question, history, lang)
        return final

    def stream(self, question: str, history: list[dict] | None = None,
               lang: str | None = None) -> Iterator[str | Answer]:
        """Pieces of the answer text as a language model writes them (none without one), then the final Answer,
        whose text replaces the pieces: it is the model's answer if it passed the grounding check, else the
        grounded one."""
        started = time.perf_counter()
        question = (question or "").strip()
        if not question:
            raise BadQuestion("The question is empty.")
        if len(question) > MAX_QUESTION_CHARS:
            raise QuestionTooLong(f"The question is {len(question)} characters long; "
                                  f"the limit is {MAX_QUESTION_CHARS}.")
        history = history or []
        previous = next((t["content"] for t in reversed(history) if t.get("role") == "user"), None)
        fallback = detect_language(previous) if previous else "en"
        language = lang or detect_language(question, fallback=fallback)
        condensed = self.model.condense(question, history) if self.model and history else None
        query = condensed or standalone_query(question, history)
        with self._lock:  # the embedded Chroma client and the embedder serve one question at a time
            grounded, evidence = self._grounded(question, query, language, started)
        if self.model is None or grounded.refused:
            yield grounded
            return
        t0 = time.perf_counter()
        run = self.model.run(question, history, language, [evidence_text(hit) for hit in evidence])
        yield from run
        timings = {**grounded.timings_ms, "llm": round((time.perf_counter() - t0) * 1000, 1),
                   "total": round((time.perf_counter() - started) * 1000, 1)}
        if run.failure:
            yield replace(grounded, backend=self.model.fell_back(run.failure), timings_ms=timings)
        elif run.declined:
            refusal = compose_refusal(language, "no_answer", self._contact)
            yield Answer(question, refusal.markdown, language, True, refusal.citations, backend=self.model.name,
                         timings_ms=timings)
        else:
            yield Answer(question, run.text, language, False, evidence_citations(run.text, evidence),
                         grounded.hubs, backend=self.model.name, timings_ms=timings)

    def _grounded(self, question: str, query: str, language: str, started: float) -> tuple[Answer, list[Hit]]:
        """The grounded answer, and the evidence a language model would be given: the same retrieval."""
        verdict = self.guard.before_retrieval(question)
        retrieve_ms = 0.0
        evidence: list[Hit] = []
        if verdict.in_scope:
            t0 = time.perf_counter()
            found = self.retriever.search(query)
            retrieve_ms = (time.perf_counter() - t0) * 1000
            verdict = self.guard.after_retrieval(found.query_vector, found.best_similarity)
        t1 = time.perf_counter()
        if verdict.in_scope:
            hubs, no_hub_here, advice = [], False, None
            locating = bool(_SETTLE.search(query))
            if locating or _HUBS.search(query):
                # a place in the question itself wins over one from an earlier turn ("and in Bergamo?")
                place = find_place(question, self.guard.geo_dir) or find_place(query, self.guard.geo_dir)
                area = self.advisor.best_area(found.query_vector) if locating else None
                sector = self.advisor.sector_vector(found.query_vector, area)
                hubs, no_hub_here = self.advise_hubs(place, query, sector, area)
                advice = self.advisor.advise(sector, place, area) if locating else None
            if advice is None and _CONTACT.search(query):
                advice = Advice(scouting=self.advisor.scouting())
            composed = compose_answer(query, found.query_vector, language, found.hits, self.retriever.sentences,
                                      self.retriever.by_source, self.retriever.idf, self.retriever.default_idf,
                                      hubs, no_hub_here, advice)
            candidates = found.hits[:EVIDENCE_CHUNKS] + [hit for hit, _ in hubs]
            candidates += [hit for hit, _ in advice.quoted()] if advice else []
            evidence = list({hit.doc.id: hit for hit in candidates}.values())  # each chunk once, first place kept
        else:
            log.info("declined (%s)", verdict.reason)
            composed = compose_refusal(language, verdict.reason, self._contact)
        done = time.perf_counter()
        answer = Answer(question, composed.markdown, language, not verdict.in_scope, composed.citations,
                        composed.hubs, timings_ms={"retrieve": round(retrieve_ms, 1),
                                                   "compose": round((done - t1) * 1000, 1),
                                                   "total": round((done - started) * 1000, 1)})
        return answer, evidence


def corpus_texts(retriever: HybridRetriever) -> list[str]:
    """What the grounding check knows names from: every chunk, with its title."""
    return [f"{d.metadata.get('title', '')}\n{d.page_content}" for d in retriever.chunks]


def ensure_index(client: ClientAPI, settings: Settings) -> None:
    """Build the index the first time; a later corpus change is picked up by `investbot index`."""
    if read_state(client) is None:
        log.warning("no index yet: building it from %s (a minute or so the first time)", settings.corpus_dir)
        summary = build_index(client, settings.corpus_dir, settings.data_dir)
        log.warning("index built: %s", summary.line())
        if summary.chunks == 0:
            raise IndexMissing("the corpus produced no chunks")


def render_markdown(answer: Answer) -> str:
    """The answer for a terminal or a chat: the text, then the numbered sources."""
    from bot.language import phrases

    lines = [answer.answer]
    if answer.citations:
        lines += ["", f"**{phrases(answer.language)['sources']}**"]
        for c in answer.citations:
            page = f", p. {c.page}" if c.page else ""
            lines.append(f"[{c.n}] {c.title}{page} ({c.source_id}) {c.url}")
    return "\n".join(lines)


