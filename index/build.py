"""corpus/ -> a new Chroma collection, then the switch: the served index is never modified in place.

Why not langchain's `index()` with a record manager: it updates the served collection in place, so a crash
half-way leaves a mix of old and new chunks. Here every run that finds a change writes a complete new
collection and switches to it only when it is done; the content-hash embedding cache makes that cheap
(an unchanged chunk is never embedded again), and a run that finds no change writes nothing.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from chromadb.api import ClientAPI
from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.embeddings import cached_embeddings
from index.loaders import SUPPORTED_HINT, LoadError, corpus_files, duplicate_ids, load_file, unsupported_files
from index.lock import index_lock
from index.screen import screened
from index.sentences import split_sentences
from index.store import (
    COLLECTION_PREFIX,
    IndexState,
    drop_other_builds,
    read_state,
    remove_orphan_segments,
    sentence_collection,
    switch_to,
    vectorstore,
)

log = logging.getLogger(__name__)
# Bump when chunking or sentence splitting changes, so the next `investbot index` rebuilds everything.
INDEX_FORMAT = 6
SPLITTER = RecursiveCharacterTextSplitter(chunk_size=700, chunk_overlap=100, separators=["\n\n", "\n", ". ", " "])


@dataclass
class IndexSummary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: int = 0
    chunks: int = 0
    seconds: float = 0.0
    collection: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)
    # (file, what staff should know): files left out for their format, files that gave no passage, flagged text
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (f"added {self.added}, updated {self.updated}, removed {self.removed}, unchanged {self.unchanged}, "
                f"failed {self.failed} files; {self.chunks} chunks; {self.seconds:.1f} s")


# A progress callback gets (files done, files in all, current file).
Progress = Callable[[int, int, str], None]
FORMAT_KEY = "(index format)"


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def chunk(docs: list[Document]) -> list[Document]:
    """Split loaded documents; a chunk's id is `<source id>#<n>` (`#p<page>.<n>` for PDF pages); a record's summary,
    short and never split, is `<source id>#<language>`."""
    out: list[Document] = []
    counters: dict[str, int] = {}
    for doc in docs:
        sid = doc.metadata["source_id"]
        if lang := doc.metadata.get("summary_of"):
            out.append(Document(id=f"{sid}#{lang}", page_content=doc.page_content.strip(),
                                metadata={**doc.metadata, "chunk_id": f"{sid}#{lang}"}))
            continue
        page = doc.metadata.get("page")
        for piece in SPLITTER.split_text(doc.page_content):
            if len(piece.strip()) < 20:  # stray headings and page furniture carry no answer
                continue
            key = f"{sid}#p{page}" if page else sid
            n = counters.get(key, 0)
            counters[key] = n + 1
            out.append(Document(id=f"{key}.{n}" if page else f"{sid}#{n}", page_content=piece.strip(),
                                metadata={**doc.metadata, "chunk_id": f"{key}.{n}" if page else f"{sid}#{n}"}))
    return out


def first_of_each(chunks: list[Document]) -> list[Document]:
    """A record id given twice in one file: its first chunks are kept (staff are told of the duplicate)."""
    kept: dict[str, Document] = {}
    for c in chunks:
        kept.setdefault(c.id, c)
    return list(kept.values())


def sentence_documents(chunks: list[Document]) -> list[Document]:
    """One document per quotable sentence, so the composer can pick sentences by meaning in any language.

    A sentence is embedded with its source's title and the sentence before it ("Its members are 4
    universities" means nothing without "MADE is ..."); the stored text is the sentence alone.
    """
    docs = []
    for c in chunks:
        quotable = split_sentences(c.page_content)
        for i, text in enumerate(quotable):
            context = f"{c.metadata.get('title', '')}. {quotable[i - 1] if i else ''} {text}"
            docs.append(Document(id=f"{c.id}/s{i}", page_content=context,
                                 metadata={"chunk_id": c.id, "position": i, "sentence": text}))
    return docs


def embedded_texts(corpus_dir: Path) -> list[str]:
    """Every text an index of this corpus embeds (chunks and sentence contexts), without embedding any."""
    texts = []
    for path in corpus_files(corpus_dir):
        try:
            chunks = chunk(load_file(path, corpus_dir))
        except LoadError:
            continue
        texts += [c.page_content for c in chunks] + [d.page_content for d in sentence_documents(chunks)]
    return texts


def build_index(client: ClientAPI, corpus_dir: Path, data_dir: Path, rebuild: bool = False,
                progress: Progress | None = None) -> IndexSummary:
    """Index the corpus into a new build and switch to it; one run at a time per data dir (IndexBusy otherwise)."""
    started = time.perf_counter()
    with index_lock(data_dir):
        return _build(client, corpus_dir, data_dir, rebuild, progress, started)


def collect_garbage(client: ClientAPI, data_dir: Path) -> tuple[int, int]:
    """Drop every build but the served one and the vector folders no collection uses: (builds, bytes freed)."""
    with index_lock(data_dir):
        state = read_state(client)
        dropped = drop_other_builds(client, state) if state else 0
        return dropped, remove_orphan_segments(data_dir)


def _build(client: ClientAPI, corpus_dir: Path, data_dir: Path, rebuild: bool, progress: Progress | None,
           started: float) -> IndexSummary:
    summary = IndexSummary()
    summary.warnings += [(rel, f"not indexed: {SUPPORTED_HINT}") for rel in unsupported_files(corpus_dir)]
    previous = read_state(client)
    old = previous.manifest if previous and not rebuild else {}
    files = corpus_files(corpus_dir)
    manifest = {p.relative_to(corpus_dir).as_posix(): file_hash(p) for p in files}
    manifest[FORMAT_KEY] = str(INDEX_FORMAT)
    summary.removed = len(set(old) - set(manifest) - {FORMAT_KEY})
    if previous and not rebuild and manifest == previous.manifest:
        summary.unchanged, summary.chunks, summary.collection = len(files), previous.chunks, previous.collection
        summary.seconds = time.perf_counter() - started
        return summary

    name = COLLECTION_PREFIX + datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
    embeddings = cached_embeddings(data_dir)
    store = vectorstore(client, name, embeddings, create=True)
    sentence_store = vectorstore(client, sentence_collection(name), embeddings, create=True)
    try:
        for done, path in enumerate(files):
            rel = path.relative_to(corpus_dir).as_posix()
            if progress:
                progress(done, len(files), rel)
            try:
                docs, flagged = screened(load_file(path, corpus_dir), path)
                chunks = first_of_each(chunk(docs))
                if chunks:
                    store.add_documents(chunks, ids=[c.id for c in chunks])
                    quotable = sentence_documents(chunks)
                    if quotable:
                        sentence_store.add_documents(quotable, ids=[d.id for d in quotable])
            except Exception as exc:  # one bad file (encrypted, a broken encoding, a loader bug) never stops the run
                reason = str(exc) if isinstance(exc, LoadError) else f"{type(exc).__name__}: {exc}"
                log.warning("skipped %s: %s", rel, reason)
                summary.failed += 1
                summary.failures.append((rel, reason))
                continue  # its manifest entry stays: an unchanged corpus is a no-op, the file is retried when changed
            summary.warnings += [(rel, note) for note in flagged + duplicate_ids(docs)]
            if not chunks:
                summary.warnings.append((rel, "no passage long enough to index: the file adds nothing"))
            summary.chunks += len(chunks)
            if rel not in old:
                summary.added += 1
            elif old[rel] != manifest[rel]:
                summary.updated += 1
            else:
                summary.unchanged += 1
        if progress:
            progress(len(files), len(files), "")
        if summary.chunks == 0:
            raise LoadError("no chunk could be indexed; the served index is left as it was")
    except BaseException:
        for partial in (name, sentence_collection(name)):  # a crash or Ctrl-C leaves the served build untouched
            client.delete_collection(partial)
        raise
    switch_to(client, IndexState(name, manifest, summary.chunks, datetime.now(UTC).isoformat(timespec="seconds")))
    remove_orphan_segments(data_dir)  # disk use stays flat across builds
    summary.collection = name
    summary.seconds = time.perf_counter() - started
    return summary
