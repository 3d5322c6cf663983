import json
from pathlib import Path

import pytest
from fpdf import FPDF

from index.loaders import LoadError, corpus_files, load_file
from index.records import check_corpus

from .conftest import CORPUS


def write_pdf(path: Path, pages: list[str]) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    path.with_name(path.stem + ".meta.yaml").write_text(
        "id: doc:sample\ntitle: Sample\nurl: https://example.org/sample.pdf\nlanguage: en\n")


def test_pdf_pages_keep_their_numbers(tmp_path: Path) -> None:
    write_pdf(tmp_path / "sample.pdf", ["Bergamo hosts Kilometro Rosso.", "Pavia hosts a science park."])
    docs = load_file(tmp_path / "sample.pdf", tmp_path)
    assert [d.metadata["page"] for d in docs] == [1, 2]
    assert "Pavia" in docs[1].page_content
    assert docs[0].metadata["source_id"] == "doc:sample"


def test_corrupt_pdf_is_reported_with_its_reason(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n%%EOF")
    bad.with_name("broken.meta.yaml").write_text("id: doc:broken\ntitle: Broken\nurl: https://example.org/b.pdf\n")
    with pytest.raises(LoadError, match="PDF"):
        load_file(bad, tmp_path)


def test_malformed_json_record_names_the_entry_and_field(tmp_path: Path) -> None:
    records = json.loads((CORPUS / "records" / "hubs.json").read_text())[:3]
    records[2]["province"] = "ZZ"
    (tmp_path / "hubs.json").write_text(json.dumps(records))
    with pytest.raises(LoadError, match=r"entry 2\.hub\.province"):
        load_file(tmp_path / "hubs.json", tmp_path)


def test_invalid_json_is_reported(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("[{")
    with pytest.raises(LoadError, match="not valid JSON"):
        load_file(tmp_path / "x.json", tmp_path)


def test_markdown_without_provenance_is_refused(tmp_path: Path) -> None:
    (tmp_path / "note.md").write_text("Some text about Lombardy without a source.")
    with pytest.raises(LoadError, match="provenance"):
        load_file(tmp_path / "note.md", tmp_path)


def test_geography_and_readmes_are_not_indexed_as_prose() -> None:
    files = {p.relative_to(CORPUS).as_posix() for p in corpus_files(CORPUS)}
    assert "booklet/capitale-umano.pdf" in files
    assert not any(f.startswith("geo/") for f in files)


def test_shipped_corpus_passes_the_check() -> None:
    count, problems = check_corpus(CORPUS)
    assert problems == []
    assert count > 1500  # records plus municipalities


def test_check_reports_a_duplicate_id_and_a_hub_outside_lombardy(tmp_path: Path) -> None:
    hubs = json.loads((CORPUS / "records" / "hubs.json").read_text())[:2]
    (tmp_path / "a.json").write_text(json.dumps(hubs[:1]))
    hubs[1]["lat"] = 41.9  # Rome
    (tmp_path / "b.json").write_text(json.dumps(hubs))
    _, problems = check_corpus(tmp_path)
    assert any("outside Lombardy" in p for p in problems)
    hubs[1]["lat"] = 45.5
    (tmp_path / "b.json").write_text(json.dumps(hubs))
    _, problems = check_corpus(tmp_path)
    assert any("duplicate id hub:" in p for p in problems)


def _one_cluster(tmp_path: Path, change) -> list[str]:
    """The shipped aerospace cluster and its S3 area, with one change, checked as a corpus of their own."""
    clusters = json.loads((CORPUS / "records" / "clusters.json").read_text())
    areas = json.loads((CORPUS / "records" / "s3.json").read_text())
    record = next(r for r in clusters if r["id"] == "cluster:ctl-aerospazio")
    change(record)
    (tmp_path / "c.json").write_text(json.dumps([record]))
    (tmp_path / "s.json").write_text(json.dumps([a for a in areas if a["id"] == "s3:aerospazio"]))
    return check_corpus(tmp_path)[1]


def test_the_unchanged_record_passes(tmp_path: Path) -> None:
    assert _one_cluster(tmp_path, lambda r: None) == []


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r["summary"].pop("de"), "summary.de is missing"),
    (lambda r: r["summary"].update(fr=r["summary"]["fr"].replace("101", "110")), "summary.fr: numbers differ"),
    (lambda r: r["summary"].update(zh=r["summary"]["zh"].replace("https://www.aerospacelombardia.it", "")),
     "summary.zh: URLs differ"),
    (lambda r: r["summary"].update(es=r["summary"]["es"] + " Note: not consulted."),
     "summary.es holds a curation note"),
    (lambda r: r.update(s3_areas=["s3:space"]), "no S3 record"),
    (lambda r: r.update(text=r["text"] + " (year: 2021)."), "text holds a curation note"),
])
def test_corpus_check_names_what_is_wrong_with_a_summary(tmp_path: Path, change, message: str) -> None:
    problems = _one_cluster(tmp_path, change)
    assert any(message in p for p in problems), problems


def test_no_indexed_text_holds_a_curation_note_or_a_raw_label() -> None:
    from evals.metrics import note_patterns

    for path in corpus_files(CORPUS):
        for doc in load_file(path, CORPUS):
            for pattern, why in note_patterns():
                assert not pattern.search(doc.page_content), (doc.metadata["source_id"], why)
            assert "notes" not in json.loads(doc.metadata.get("record", "{}"))


def test_the_shipped_embedding_cache_is_fresh() -> None:
    from bot.shipped import stale

    missing = stale(CORPUS)
    assert missing == 0, (f"index/shipped-embeddings.npz lacks {missing} vectors of the corpus or the router: "
                          "run `.venv/bin/investbot index` and commit the file")
