"""The core API: `Bot.answer(question, history, lang) -> Answer`, the answer object of DESIGN.md."""

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from chromadb.api import ClientAPI
from threadpoolctl import threadpool_limits

from bot.derived import keep_derived_in
from bot.find.gazetteer import find_place
from bot.find.hubs import HubSearch
from bot.find.retrieve import Hit, HybridRetriever
from bot.languages import all_languages, with_short_forms
from bot.languages.detect import detect_language
from bot.model.grounding import Failure
from bot.model.llm import ModelBackend, chat_model
from bot.route.router import FREE_TEXT, Route, Router
from bot.route.scope import ScopeGuard
from bot.route.slots import sector_words
from bot.settings import Settings
from bot.tuning import ADVICE_COVERS, ADVICE_FLOOR, FOLLOW_UP_CONTEXT_CHARS, FOLLOW_UP_WORDS
from bot.types import Answer, BadQuestion, QuestionTooLong
from bot.write.builders import Builders, Question
from bot.write.compose import compose_refusal, evidence_citations, evidence_text
from index.embeddings import cached_embeddings
from index.store import IndexMissing, open_client, read_state

if TYPE_CHECKING:  # the indexer (text splitters, pypdf) is imported only when an index must be built
    from index.build import Progress

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 2000
EVIDENCE_CHUNKS = 6  # chunks a language model is given, besides the hubs' records
RETRIEVED = 12  # chunks retrieved for a question: the records and sentences the builders choose from
WARM_UP_QUESTION = "Where near Milano should a medical devices company set up R&D?"


@lru_cache(maxsize=1)
def _follow_up_openers() -> re.Pattern:
    openers = [o for data in all_languages().values() for o in data.get("follow_up_openers", [])]
    return re.compile(r"^\s*(?:" + "|".join(openers) + r")(?:\b|\s)", re.IGNORECASE)


def readable(texts: list[str]) -> bool:
    """False for text that cannot be stored or embedded: a lone surrogate ("\\ud800") sent as JSON."""
    try:
        for text in texts:
            text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def questions_asked(history: list[dict]) -> list[str]:
    """The investor's earlier questions, oldest first."""
    return [t["content"] for t in history if t.get("role") == "user" and t.get("content")]


def standalone_query(question: str, history: list[dict]) -> str:
    """A short or connective follow-up is searched together with the investor's previous question."""
    earlier = questions_asked(history)
    if earlier and (_follow_up_openers().match(question) or len(question.split()) <= FOLLOW_UP_WORDS
                    or len(question) <= FOLLOW_UP_WORDS * 3):  # Chinese has no spaces: about 3 characters a word
        return f"{earlier[-1][:FOLLOW_UP_CONTEXT_CHARS]} {question}"
    return question


class Bot:
    def __init__(self, retriever: HybridRetriever, guard: ScopeGuard, model: ModelBackend | None = None,
                 router: Router | None = None) -> None:
        self.retriever = retriever
        self.guard = guard
        self.model = model
        self.router = router or Router.from_languages(retriever.embeddings_for_queries)
        self.builders = Builders(retriever, guard.geo_dir)

    @property
    def hub_search(self) -> HubSearch:
        return self.builders.hub_search

    @classmethod
    def from_settings(cls, settings: Settings, client: ClientAPI | None = None,
                      progress: "Progress | None" = None, warm: bool = True) -> "Bot":
        """`progress` hears how far the index build is, when there is no index yet. `warm=False` skips the warm-up
        (a one-question command would pay for it without gain)."""
        chat = chat_model(settings)  # before indexing: a misconfigured model should not wait a minute to say so
        keep_derived_in(settings.data_dir)
        # The bot's matrix products are small (a question against a few thousand sentences): BLAS threads gain
        # nothing there and, spinning on the same 2 cores as the embedder's threads, slowed the next embedding
        # about tenfold (warm ask p95 114 ms with them, 24 ms without, over the 410 public questions).
        threadpool_limits(1, user_api="blas")
        client = client or open_client(settings.data_dir, settings.chroma_host, settings.chroma_port)
        ensure_index(client, settings, progress)
        retriever = HybridRetriever(client, cached_embeddings(settings.data_dir))
        model = ModelBackend.from_settings(settings, chat, corpus_texts(retriever)) if chat else None
        router = Router.from_languages(cached_embeddings(settings.data_dir, as_queries=True))
        guard = ScopeGuard(settings.corpus_dir / "geo", settings.relevance_floor)
        bot = cls(retriever, guard, model, router)
        if warm:
            bot.warm_up()
        return bot

    def contact(self, lang: str) -> tuple[Hit, str] | None:
        return self.builders.contact(lang)

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
        if lang is not None and not re.fullmatch(r"[a-z]{2}", lang):
            raise BadQuestion("lang must be a two-letter language code such as en, it or de.")
        if not readable([question, *(str(t.get("content") or "") for t in history)]):
            raise BadQuestion("The question or the conversation contains characters that are not valid text.")
        previous = next((t["content"] for t in reversed(history) if t.get("role") == "user"), None)
        fallback = detect_language(previous) if previous else "en"
        language = lang or detect_language(question, fallback=fallback)
        condensed = self.model.condense(question, history) if self.model and history else None
        query = condensed or standalone_query(question, history)
        grounded, evidence = self._grounded(question, query, language, started, history)
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
        elif run.declined:  # the sources answered (the grounded answer is not a refusal): that answer is shown
            yield replace(grounded, backend=self.model.fell_back(Failure("declined", "the model declined")),
                          timings_ms=timings)
        else:
            yield Answer(question, run.text, language, False, evidence_citations(run.text, evidence),
                         grounded.hubs, backend=self.model.name, timings_ms=timings)

    def _grounded(self, question: str, query: str, language: str, started: float,
                  history: list[dict] | None = None) -> tuple[Answer, list[Hit]]:
        """The grounded answer, and the evidence a language model would be given: the same retrieval."""
        verdict = self.guard.before_retrieval(question)
        retrieve_ms = 0.0
        t1 = time.perf_counter()
        if not verdict.in_scope:
            log.info("declined (%s)", verdict.reason)
            route = Route("injection" if verdict.reason == "injection" else "off_topic", 1.0)
            composed, refused, evidence = compose_refusal(language, verdict.reason, self.contact(language)), True, []
        else:
            t0 = time.perf_counter()
            found = self.retriever.search(with_short_forms(query, language), k=RETRIEVED, lang=language)
            retrieve_ms = (time.perf_counter() - t0) * 1000
            t1 = time.perf_counter()
            route = self.router.classify(found.query_vector)
            named = self.retriever.named(question) or self.retriever.named(query)
            if route.intent in (FREE_TEXT, "off_topic") and named:
                route = Route("entity", route.score)
            elif route.intent == FREE_TEXT and not self.guard.relevant(found.best_similarity):
                route = Route("off_topic", route.score)
            # a place in the question itself wins over one from an earlier turn ("and in Bergamo?")
            place = find_place(question, self.guard.geo_dir) or find_place(query, self.guard.geo_dir)
            if place and route.intent in ADVICE_COVERS and route.runner_up == "where_to_locate" \
                    and route.runner_up_score >= ADVICE_FLOOR:
                route = Route("where_to_locate", route.runner_up_score, route.intent, route.score)
            asked = Question(question, query, language, found, place, named=named,
                             sector=sector_words(query, language, self.guard.geo_dir))
            if asked.asks("closest"):
                asked.earlier_hubs = self._earlier_hubs(history or [], language)
            elif history and query != question and not named and (asked.asks("website") or asked.asks("where")):
                asked.named = self._focus(history, language)  # "what is their website?": whose?
            built = self.builders.build(route, asked)
            composed, refused = built.composition, built.refused
            unique = list({hit.doc.id: hit for hit in (built.evidence or found.hits)}.values())
            evidence = unique[:EVIDENCE_CHUNKS + len(composed.hubs)]  # what it quotes first, and every hub shown
        done = time.perf_counter()
        answer = Answer(question, composed.markdown, language, refused, composed.citations, composed.hubs,
                        intent=route.intent, timings_ms={"retrieve": round(retrieve_ms, 1),
                                                         "compose": round((done - t1) * 1000, 1),
                                                         "total": round((done - started) * 1000, 1)})
        return answer, evidence

    def _focus(self, history: list[dict], language: str) -> list[str]:
        """The record the conversation is about: the first one the last answer names, else the one that answers
        the previous question (asked again: the API is stateless, and a client may send the questions only)."""
        last_answer = next((t["content"] for t in reversed(history) if t.get("role") == "assistant"
                            and t.get("content")), "")
        if named := self.retriever.named(str(last_answer)):
            return named[:1]
        previous = self._previous_answer(history, language)
        return [c.source_id.split("#")[0] for c in previous.citations[:1]] if previous and not previous.refused \
            else []

    def _earlier_hubs(self, history: list[dict], language: str) -> list[str]:
        """The hubs the previous answer showed ("which one is closest to Como?")."""
        previous = self._previous_answer(history, language)
        return [h.id for h in previous.hubs] if previous else []

    def _previous_answer(self, history: list[dict], language: str) -> Answer | None:
        """The grounded answer to the investor's previous question, asked again (the API is stateless)."""
        earlier = questions_asked(history)
        if not earlier:
            return None
        previous, _ = self._grounded(earlier[-1], earlier[-1], language, time.perf_counter())
        return previous


def corpus_texts(retriever: HybridRetriever) -> list[str]:
    """What the grounding check knows names from: every chunk, with its title."""
    return [f"{d.metadata.get('title', '')}\n{d.page_content}" for d in retriever.chunks]


def ensure_index(client: ClientAPI, settings: Settings, progress: "Progress | None" = None) -> None:
    """Build the index the first time; a later corpus change is picked up by `investbot index`."""
    if read_state(client) is None:
        from index.build import build_index

        log.warning("no index yet: building it from %s", settings.corpus_dir)
        summary = build_index(client, settings.corpus_dir, settings.data_dir, progress=progress)
        log.warning("index built: %s", summary.line())
        if summary.chunks == 0:
            raise IndexMissing("the corpus produced no chunks")


def render_markdown(answer: Answer) -> str:
    """The answer for a terminal or a chat: the text, then the numbered sources."""
    from bot.languages.detect import phrases

    lines = [answer.answer]
    if answer.citations:
        lines += ["", f"**{phrases(answer.language)['sources']}**"]
        for c in answer.citations:
            page = f", p. {c.page}" if c.page else ""
            lines.append(f"[{c.n}] {c.title}{page} ({c.source_id}) {c.url}")
    return "\n".join(lines)


