from pathlib import Path

import pytest

from bot.retrieve import HybridRetriever
from index import build as build_module
from index.build import build_index
from index.store import COLLECTION_PREFIX, read_state, sentence_collection, served_chunks


def cache_entries(data_dir: Path) -> int:
    return sum(1 for _ in (data_dir / "embedding-cache").rglob("*") if _.is_file())


def test_no_op_reindex_changes_nothing(tiny_corpus: Path, tiny_client, tmp_path: Path) -> None:
    first = build_index(tiny_client, tiny_corpus, tmp_path / "data")
    assert first.added == 2 and first.chunks > 5
    again = build_index(tiny_client, tiny_corpus, tmp_path / "data")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert again.collection == first.collection


def test_an_edit_reembeds_only_that_file(tiny_corpus: Path, tiny_client, tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_index(tiny_client, tiny_corpus, data)
    before = cache_entries(data)
    page = tiny_corpus / "page" / "innovazione.md"
    page.write_text(page.read_text() + "\n\nIl nuovo polo di Lodi apre nel 2027 per le imprese agroalimentari.\n")
    summary = build_index(tiny_client, tiny_corpus, data)
    assert (summary.updated, summary.unchanged) == (1, 1)
    added = cache_entries(data) - before
    # The appended paragraph changes the page's last chunk and its sentences only; the records are untouched.
    assert 0 < added <= 6
    _, chunks = served_chunks(tiny_client)
    assert any("polo di Lodi" in c.page_content for c in chunks)


def test_a_deleted_file_disappears_from_the_index(tiny_corpus: Path, tiny_client, tmp_path: Path) -> None:
    build_index(tiny_client, tiny_corpus, tmp_path / "data")
    (tiny_corpus / "records" / "competence_centres.json").unlink()
    summary = build_index(tiny_client, tiny_corpus, tmp_path / "data")
    assert summary.removed == 1
    _, chunks = served_chunks(tiny_client)
    assert chunks and not any(c.metadata["source_id"].startswith("cc:") for c in chunks)


def test_a_bad_file_is_skipped_and_the_rest_indexed(tiny_corpus: Path, tiny_client, tmp_path: Path) -> None:
    (tiny_corpus / "records" / "broken.json").write_text('[{"id": "hub:x"')
    summary = build_index(tiny_client, tiny_corpus, tmp_path / "data")
    assert summary.failed == 1 and summary.failures[0][0] == "records/broken.json"
    assert summary.added == 2
    _, chunks = served_chunks(tiny_client)
    assert any(c.metadata["source_id"] == "cc:cc-made" for c in chunks)


def test_a_crash_mid_build_leaves_the_old_index_answering(tiny_corpus: Path, tiny_client, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    build_index(tiny_client, tiny_corpus, data)
    served = read_state(tiny_client)
    page = tiny_corpus / "page" / "innovazione.md"
    page.write_text(page.read_text() + "\n\nUna modifica.\n")
    real_load = build_module.load_file

    def crash_on_second(path: Path, corpus_dir: Path):
        if path.suffix == ".md":
            raise KeyboardInterrupt  # as if the operator pressed Ctrl-C half-way
        return real_load(path, corpus_dir)

    monkeypatch.setattr(build_module, "load_file", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        build_index(tiny_client, tiny_corpus, data)
    assert read_state(tiny_client).collection == served.collection
    builds = sorted(c.name for c in tiny_client.list_collections() if c.name.startswith(COLLECTION_PREFIX))
    assert builds == sorted([served.collection, sentence_collection(served.collection)])  # no half-built leftovers
    hits = HybridRetriever(tiny_client).search("MADE competence center universities").hits
    assert hits and hits[0].source_id in {"cc:cc-made", "page:innovazione"}


def test_english_question_finds_the_italian_page(tiny_corpus: Path, tiny_client, tmp_path: Path) -> None:
    build_index(tiny_client, tiny_corpus, tmp_path / "data")
    hits = HybridRetriever(tiny_client).search("Which seven specialisation areas has the region identified?",
                                               lang="en").hits
    assert "page:innovazione" in [h.source_id for h in hits[:3]]
