"""Hybrid retrieval: dense (Chroma, e5) and lexical (bm25s) rankings fused by reciprocal rank."""

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from chromadb.api import ClientAPI
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from bot.tuning import RETRIEVAL_LEXICAL_WEIGHT, RRF_K, SAME_SOURCE_HITS
from index.embeddings import E5Embeddings, E5QueryEmbeddings
from index.lexical import LexicalIndex, tokenize
from index.store import served_chunks, served_collection, served_sentences

NAMED_KINDS = {"cluster", "competence_centre", "university", "its", "hub"}  # organisations a question names
MIN_NAME_CHARS = 4  # shorter names ("ITS", "TAV") are too often ordinary words or several things


@dataclass
class Hit:
    doc: Document
    score: float  # fused reciprocal-rank score
    similarity: float | None  # cosine similarity to the query, when the dense search found it

    @property
    def source_id(self) -> str:
        return self.doc.metadata["source_id"]


@dataclass
class Retrieval:
    hits: list[Hit]
    best_similarity: float  # of the best dense match: the relevance floor is applied to this
    query_vector: list[float]


class HybridRetriever:
    def __init__(self, client: ClientAPI, passage_embeddings: Embeddings | None = None) -> None:
        self.embeddings = E5Embeddings()
        # texts the bot embeds beyond the index (hub sector lists), cached on disk when the caller gives a cache
        self.passage_embeddings = passage_embeddings or self.embeddings
        self.state, self.chunks = served_chunks(client)
        self._collection = served_collection(client, self.state.collection)
        self._client = client
        self._by_id = {d.id: d for d in self.chunks}
        self.chunk_ids = set(self._by_id)
        self.by_source: dict[str, list[Document]] = {}
        for d in self.chunks:
            self.by_source.setdefault(d.metadata["source_id"], []).append(d)
        self._lexical = LexicalIndex([f"{d.metadata.get('title', '')}\n{d.page_content}" for d in self.chunks])
        df = Counter(t for d in self.chunks for t in set(tokenize(d.page_content)))
        n = len(self.chunks) or 1
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.default_idf = math.log(1 + n)

    @cached_property
    def sentences(self) -> dict[str, tuple[list[str], np.ndarray]]:
        """Every quotable sentence with its vector, by chunk id: loaded on first use (the free-text composer and
        the hub search need them, a question about one record does not)."""
        return served_sentences(self._client, self.state)

    @property
    def embeddings_for_queries(self) -> E5QueryEmbeddings:
        """Texts embedded as questions, uncached (the bot's router is given a cached one by from_settings)."""
        return E5QueryEmbeddings()

    @cached_property
    def records(self) -> dict[str, dict]:
        """The structured records (hubs, clusters, universities…) by source id, from their chunks' metadata."""
        return {d.metadata["source_id"]: json.loads(d.metadata["record"])
                for d in self.chunks if "record" in d.metadata}

    def records_of(self, kind: str) -> dict[str, dict]:
        return {sid: r for sid, r in self.records.items() if r.get("kind") == kind}

    def with_role(self, role: str) -> list[str]:
        """The records the data marks for a job ("agency_contact", "site_scouting"), in corpus order."""
        return [sid for sid, r in self.records.items() if role in r.get("roles", [])]

    @cached_property
    def _names(self) -> tuple[re.Pattern, dict[str, str]]:
        """Every record's names: title, name, Italian name, acronym, and each of them cut before " – " or " ("
        (what a bracket holds is often a city, which names no record)."""
        by_name: dict[str, str] = {}
        for sid, record in self.records.items():
            if record.get("kind") not in NAMED_KINDS:
                continue  # an S3 area's or a figure's "name" ("Agroalimentare") is a topic, not something named
            for key in ("title", "name", "name_it", "acronym"):
                value = str(record.get(key) or "")
                for part in {value, value.split(" – ")[0], value.split(" (")[0]}:
                    part = part.strip()
                    if len(part) >= MIN_NAME_CHARS and not part.casefold().startswith(("s3 area", "lombardy in")):
                        by_name.setdefault(part.casefold(), sid)
        alternatives = sorted(by_name, key=len, reverse=True)
        return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, alternatives)) + r")(?!\w)", re.IGNORECASE), by_name

    def named(self, text: str) -> list[str]:
        """The records a text names, in order of mention."""
        pattern, by_name = self._names
        return list(dict.fromkeys(by_name[m.group(1).casefold()] for m in pattern.finditer(text)))

    def summary(self, source_id: str, lang: str) -> Document | None:
        """A record's summary chunk in this language (English when the record has none in it)."""
        return self._by_id.get(f"{source_id}#{lang}") or self._by_id.get(f"{source_id}#en")

    def summary_hit(self, source_id: str, lang: str) -> Hit | None:
        """A record's summary in this language as a hit to cite (none when the record has no summary)."""
        doc = self.summary(source_id, lang)
        return Hit(doc, 0.0, None) if doc else None

    def summary_line(self, source_id: str, lang: str) -> tuple[Hit, str] | None:
        """A record's summary as a line to quote: the hit to cite and its text."""
        hit = self.summary_hit(source_id, lang)
        return (hit, hit.doc.page_content) if hit else None

    def summary_lines(self, source_ids: list[str], lang: str) -> list[tuple[Hit, str]]:
        """The summary lines of these records, each once, in this order (records without a summary left out)."""
        return [line for sid in dict.fromkeys(source_ids) if (line := self.summary_line(sid, lang))]

    def chunk_vectors(self, ids: list[str]) -> np.ndarray:
        """The stored embeddings of these chunks, in this order."""
        if not ids:
            return np.empty((0, 384), dtype=np.float32)
        got = self._collection.get(ids=ids, include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        return np.asarray([by_id[i] for i in ids], dtype=np.float32)

    def _in_language(self, ranked: list[tuple[str, float]], lang: str) -> list[tuple[str, float]]:
        kept, per_source = [], Counter()
        for chunk_id, score in ranked:
            meta = self._by_id[chunk_id].metadata
            summary_language = meta.get("summary_of")
            if summary_language and summary_language != lang and f"{meta['source_id']}#{lang}" in self._by_id:
                continue
            if per_source[meta["source_id"]] >= SAME_SOURCE_HITS:
                continue
            per_source[meta["source_id"]] += 1
            kept.append((chunk_id, score))
        return kept

    def search(self, query: str, k: int = 8, pool: int = 48, lang: str | None = None) -> Retrieval:
        """The k best chunks by fused rank. With `lang`, a record's summaries in other languages are left out (the
        record is found through the summary in `lang`, or its details) and a record counts at most twice, so the
        hits are k different answers rather than one record in six languages."""
        vector = self.embeddings.embed_query(query)
        # Chroma is asked for ids and distances only: the chunks' texts are in memory already, and fetching them
        # with each query was three quarters of its cost (3.4 ms against 0.9 ms).
        dense = self._collection.query(query_embeddings=[vector], n_results=min(pool, len(self.chunks)),
                                       include=["distances"])
        fused: dict[str, float] = {}
        similarity: dict[str, float] = {}
        for rank, (chunk_id, distance) in enumerate(zip(dense["ids"][0], dense["distances"][0], strict=True)):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1 / (RRF_K + rank + 1)
            similarity[chunk_id] = 1.0 - distance  # cosine space: distance = 1 - similarity
        for rank, (position, _score) in enumerate(self._lexical.search(query, pool)):
            doc_id = self.chunks[position].id
            fused[doc_id] = fused.get(doc_id, 0.0) + RETRIEVAL_LEXICAL_WEIGHT / (RRF_K + rank + 1)
        ranked = sorted(fused.items(), key=lambda item: item[1], reverse=True)
        if lang:
            ranked = self._in_language(ranked, lang)
        hits = [Hit(self._by_id[i], s, similarity.get(i)) for i, s in ranked[:k]]
        best = max(similarity.values(), default=0.0)
        return Retrieval(hits, best, vector)
