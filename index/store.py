"""Chroma: the client (embedded or a `chroma run` server), the served collection, and the switch between builds.

Which collection is served is recorded in the metadata of a small state collection, so every replica that
shares a Chroma server sees the same index, and switching to a new build is one metadata write.
"""

import json
import logging
import re
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from index.embeddings import MODEL_NAME

log = logging.getLogger(__name__)
STATE_COLLECTION = "investbot-state"
COLLECTION_PREFIX = f"investbot-{MODEL_NAME}-"


class IndexMissing(Exception):
    """No index has been built yet (run `investbot index`)."""


@dataclass
class IndexState:
    collection: str
    manifest: dict[str, str] = field(default_factory=dict)  # corpus file -> content hash
    chunks: int = 0
    built_at: str = ""


def open_client(data_dir: Path, chroma_host: str | None = None, chroma_port: int = 8000) -> ClientAPI:
    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_host:
        return chromadb.HttpClient(host=chroma_host, port=chroma_port, settings=settings)
    data_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)


def _state_collection(client: ClientAPI):
    # Holds no vectors, only metadata: no embedding function, so Chroma never loads its default one.
    return client.get_or_create_collection(STATE_COLLECTION, embedding_function=None)


def read_state(client: ClientAPI) -> IndexState | None:
    meta = _state_collection(client).metadata or {}
    if "collection" not in meta:
        return None
    return IndexState(meta["collection"], json.loads(meta.get("manifest", "{}")), int(meta.get("chunks", 0)),
                      str(meta.get("built_at", "")))


def switch_to(client: ClientAPI, state: IndexState) -> None:
    """Serve `state.collection` from now on, then drop every other build."""
    _state_collection(client).modify(metadata={
        "collection": state.collection, "manifest": json.dumps(state.manifest), "chunks": state.chunks,
        "built_at": state.built_at})
    drop_other_builds(client, state)


def drop_other_builds(client: ClientAPI, state: IndexState) -> int:
    """Delete every build but the served one (older builds, and halves of builds a killed run left)."""
    keep = {state.collection, sentence_collection(state.collection)}
    dropped = 0
    for col in client.list_collections():
        if col.name.startswith(COLLECTION_PREFIX) and col.name not in keep:
            client.delete_collection(col.name)
            log.info("dropped old index %s", col.name)
            dropped += 1
    return dropped


def _compact(database: Path) -> int:
    """VACUUM Chroma's database when over a quarter of its pages are free (a dropped build's rows): SQLite reuses
    free pages only partly, so without it the file grew by half a build each run. Bytes freed."""
    before = database.stat().st_size
    with closing(sqlite3.connect(database, timeout=30)) as db:
        pages, free = db.execute("PRAGMA page_count").fetchone()[0], db.execute("PRAGMA freelist_count").fetchone()[0]
        if free * 4 > pages:
            db.execute("VACUUM")
    return max(0, before - database.stat().st_size)


_SEGMENT_DIR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def remove_orphan_segments(data_dir: Path) -> int:
    """Embedded Chroma keeps the vector folder of a deleted collection on disk (about 2 MB a build here): remove the
    folders that no segment in its database names. Bytes freed; 0 with a Chroma server (no local database)."""
    database = data_dir / "chroma" / "chroma.sqlite3"
    if not database.exists():
        return 0
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        live = {row[0] for row in db.execute("SELECT id FROM segments")}
    freed = _compact(database)
    for folder in database.parent.iterdir():
        if folder.is_dir() and _SEGMENT_DIR.match(folder.name) and folder.name not in live:
            freed += sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
            shutil.rmtree(folder, ignore_errors=True)
            log.info("removed orphan vector folder %s", folder.name)
    return freed


def sentence_collection(name: str) -> str:
    """The companion collection that holds one vector per quotable sentence of the build's chunks."""
    return f"{name}-sentences"


def served_collection(client: ClientAPI, name: str) -> Collection:
    """A build's collection, checked to be in cosine space with our embedder; queried with vectors only (no
    embedding function, or Chroma would fall back to its default, from the network)."""
    collection = client.get_collection(name, embedding_function=None)
    meta = collection.metadata or {}
    if meta.get("hnsw:space") != "cosine" or meta.get("embedder") != MODEL_NAME:
        raise IndexMissing(f"{name} was built with another space or embedder: run `investbot index --rebuild`")
    return collection


def vectorstore(client: ClientAPI, name: str, embeddings: Embeddings, create: bool = False) -> Chroma:
    """Open a build with our embedder; always passed, or Chroma would fall back to its default (network)."""
    if not create:
        served_collection(client, name)
    return Chroma(collection_name=name, client=client, embedding_function=embeddings,
                  collection_metadata={"hnsw:space": "cosine", "embedder": MODEL_NAME},
                  create_collection_if_not_exists=create)


def served_chunks(client: ClientAPI) -> tuple[IndexState, list[Document]]:
    """The served build's state and all its chunks (id, text, metadata), for the lexical index and the map."""
    state = read_state(client)
    if state is None:
        raise IndexMissing("no index yet: run `investbot index`")
    got = client.get_collection(state.collection, embedding_function=None).get(include=["documents", "metadatas"])
    docs = [Document(id=i, page_content=t, metadata=m or {})
            for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
    docs.sort(key=lambda d: d.id or "")
    return state, docs


def served_sentences(client: ClientAPI, state: IndexState) -> dict[str, tuple[list[str], np.ndarray]]:
    """chunk id -> (its quotable sentences in order, their vectors), for the composer."""
    got = client.get_collection(sentence_collection(state.collection), embedding_function=None).get(
        include=["documents", "metadatas", "embeddings"])
    rows = sorted(zip(got["metadatas"], got["documents"], got["embeddings"], strict=True),
                  key=lambda r: (r[0]["chunk_id"], r[0]["position"]))
    grouped: dict[str, tuple[list[str], list]] = {}
    for meta, _context, vector in rows:
        texts, vectors = grouped.setdefault(meta["chunk_id"], ([], []))
        texts.append(meta["sentence"])
        vectors.append(vector)
    return {cid: (texts, np.asarray(vectors, dtype=np.float32)) for cid, (texts, vectors) in grouped.items()}
