"""The embedding cache shipped in the repository (index/shipped-embeddings.npz): the vectors of the shipped corpus
and of the router's example questions, so a fresh clone builds its index and router in seconds. `investbot index`
keeps it fresh; a test fails when it is stale."""

import os
from pathlib import Path

from bot.find.hubs import sector_text
from bot.route.router import examples
from index.build import embedded_texts
from index.embeddings import SHIPPED, cache_key, cached_embeddings, missing_from_shipped, write_shipped
from index.records import read_records


def _hub_sectors(corpus_dir: Path) -> list[str]:
    hubs = [r for path in corpus_dir.rglob("*.json") for r in _records(path) if r.kind == "hub"]
    return [sector_text(r.model_dump()) for r in hubs]


def _records(path: Path) -> list:
    try:
        return read_records(path)
    except ValueError:
        return []


def shipped_keys(corpus_dir: Path) -> list[str]:
    return ([cache_key(text) for text in [*embedded_texts(corpus_dir), *_hub_sectors(corpus_dir)]]
            + [cache_key(question, as_queries=True) for _, question in examples()])


def refresh(corpus_dir: Path, data_dir: Path) -> int | None:
    """Rewrite the shipped cache from the data dir's (after an index build); None where it cannot be written
    (an installed package, not a checkout)."""
    if not os.access(SHIPPED.parent, os.W_OK):
        return None
    cached_embeddings(data_dir, as_queries=True).embed_documents([q for _, q in examples()])
    cached_embeddings(data_dir).embed_documents(_hub_sectors(corpus_dir))
    return write_shipped(data_dir, shipped_keys(corpus_dir))


def stale(corpus_dir: Path) -> int:
    """How many texts of this corpus and the router the shipped cache lacks."""
    return len(missing_from_shipped(shipped_keys(corpus_dir)))
