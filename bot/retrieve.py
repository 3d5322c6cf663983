"""Hybrid retrieval: dense (Chroma, e5) and lexical (bm25s) rankings fused by reciprocal rank."""

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from chromadb.api import ClientAPI
from langchain_core.documents import Document

from index.embeddings import E5Embeddings
from index.lexical import LexicalIndex, tokenize
from index.store import served_chunks, served_sentences, vectorstore

RRF_K = 60  # the constant of Cormack et al.; it damps the weight of the very first ranks


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
    def __init__(self, client: ClientAPI) -> None:
        self.embeddings = E5Embeddings()
        self.state, self.chunks = served_chunks(client)
        self._store = vectorstore(client, self.state.collection, self.embeddings)
        self.sentences = served_sentences(client, self.state)
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
    def records(self) -> dict[str, dict]:
        """The structured records (hubs, clusters, universities…) by source id, from their chunks' metadata."""
        return {d.metadata["source_id"]: json.loads(d.metadata["record"])
                for d in self.chunks if "record" in d.metadata}

    def records_of(self, kind: str) -> dict[str, dict]:
        return {sid: r for sid, r in self.records.items() if r.get("kind") == kind}

    def chunk_vectors(self, ids: list[str]) -> np.ndarray:
        """The stored embeddings of these chunks, in this order."""
        if not ids:
            return np.empty((0, 384), dtype=np.float32)
        got = self._store._collection.get(ids=ids, include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        return np.asarray([by_id[i] for i in ids], dtype=np.float32)

    def search(self, query: str, k: int = 8, pool: int = 24) -> Retrieval:
        vector = self.embeddings.embed_query(query)
        dense = self._store.similarity_search_by_vector_with_relevance_scores(vector, k=min(pool, len(self.chunks)))
        fused: dict[str, float] = {}
        similarity: dict[str, float] = {}
        for rank, (doc, distance) in enumerate(dense):
            fused[doc.id] = fused.get(doc.id, 0.0) + 1 / (RRF_K + rank + 1)
            similarity[doc.id] = 1.0 - distance  # cosine space: distance = 1 - similarity
        for rank, (position, _score) in enumerate(self._lexical.search(query, pool)):
            doc_id = self.chunks[position].id
            fused[doc_id] = fused.get(doc_id, 0.0) + 1 / (RRF_K + rank + 1)
        ranked = sorted(fused.items(), key=lambda item: item[1], reverse=True)[:k]
        hits = [Hit(self._by_id[i], s, similarity.get(i)) for i, s in ranked]
        best = max(similarity.values(), default=0.0)
        return Retrieval(hits, best, vector)
