"""One loader per file format, chosen from an extension table; each turns a corpus file into Documents.

Every Document carries the same metadata keys: source_id, title, url, language, kind, page, file.
"""

import json
import re
from collections.abc import Callable
from pathlib import Path

from langchain_core.documents import Document
from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from index.records import Provenance, RecordBase, provenance_for, read_records, split_front_matter

# Folders whose files are not prose to index: geography feeds the gazetteer and the map.
NOT_INDEXED_DIRS = {"geo"}
NOT_INDEXED_NAMES = {"readme.md"}
KNOWN_SIDE_FILES = {".py", ".yaml", ".yml"}  # the booklet's generator and its data, provenance: not corpus text


class LoadError(Exception):
    """A corpus file that cannot be read; the message says why."""


def _metadata(prov: Provenance | RecordBase, kind: str, file: str, page: int | None = None) -> dict:
    meta = {"source_id": prov.id, "title": prov.title, "url": str(prov.url), "language": prov.language,
            "kind": kind, "file": file}
    if page is not None:
        meta["page"] = page
    return meta


def _require_provenance(path: Path) -> Provenance:
    try:
        prov = provenance_for(path)
    except Exception as exc:  # yaml and pydantic errors alike: the file's provenance is unusable
        raise LoadError(f"invalid provenance: {exc}") from exc
    if prov is None:
        raise LoadError(f"no provenance: add front matter or {path.stem}.meta.yaml with id, title and url")
    return prov


def load_text(path: Path, rel: str) -> list[Document]:
    prov = _require_provenance(path)
    _, body = split_front_matter(path.read_text(encoding="utf-8"))
    if not body.strip():
        raise LoadError("the file has no text")
    return [Document(page_content=body.strip(), metadata=_metadata(prov, "page", rel))]


WRAPPED_LINE_CHARS = 60  # a PDF line at least this long that ends mid-sentence was wrapped by the layout


def unwrap_lines(text: str) -> str:
    """Join the lines a PDF layout wrapped, keep headings and list lines apart, collapse justification spaces."""
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if out and len(out[-1]) >= WRAPPED_LINE_CHARS and not out[-1].endswith((".", "!", "?", ":")):
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


def load_pdf(path: Path, rel: str) -> list[Document]:
    prov = _require_provenance(path)
    try:
        reader = PdfReader(path)  # an encrypted PDF is opened with the empty password (AES needs cryptography)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, PyPdfError, ValueError, OSError) as exc:
        raise LoadError(f"unreadable PDF ({type(exc).__name__}): {exc}") from exc
    docs = []
    for number, text in enumerate(pages, start=1):
        text = unwrap_lines(text)
        if text:
            meta = _metadata(prov, "pdf", rel, page=number)
            if number in prov.page_urls:
                meta["url"] = str(prov.page_urls[number])
            docs.append(Document(page_content=text, metadata=meta))
    if not docs:
        raise LoadError("the PDF has no extractable text (scanned images need OCR first)")
    return docs


def load_records(path: Path, rel: str) -> list[Document]:
    """Each record gives one document per summary language (so a question in any language finds the record in that
    language; chunk id `<source id>#<lang>`) and one for its details (chunked as `<source id>#<n>`). Notes are not
    indexed."""
    try:
        records = read_records(path)
    except ValueError as exc:
        raise LoadError(str(exc)) from exc
    docs = []
    for record in records:
        meta = {**_metadata(record, record.kind, rel), "confidence": record.confidence}
        # The whole record travels with its English summary, so the map and the advisor (a cluster's website and
        # S3 areas, a university's city) work from the index alone.
        whole = json.dumps(record.model_dump(mode="json", exclude={"notes"}), ensure_ascii=False)
        for lang, summary in record.summary.items():
            extra = {"language": lang, "summary_of": lang} | ({"record": whole} if lang == "en" else {})
            docs.append(Document(page_content=summary, metadata={**meta, **extra}))
        docs.append(Document(page_content=record.text, metadata=meta))
    return docs


def duplicate_ids(docs: list[Document]) -> list[str]:
    """Records of one file that share an id (each record gives one document per language and one of details)."""
    ids = [d.metadata["source_id"] for d in docs if d.metadata.get("summary_of") == "en"]
    return [f"duplicate id {i} within the file: only one of them can be cited" for i in sorted(set(ids))
            if ids.count(i) > 1]


LOADERS: dict[str, Callable[[Path, str], list[Document]]] = {
    ".md": load_text,
    ".txt": load_text,
    ".pdf": load_pdf,
    ".json": load_records,
}


SUPPORTED_HINT = f"the formats read are {', '.join(LOADERS)} (with provenance: front matter or a .meta.yaml)"


def _candidates(corpus_dir: Path) -> list[Path]:
    """Every file staff put in the corpus (provenance files, README and the geography aside)."""
    return [path for path in sorted(corpus_dir.rglob("*"))
            if path.is_file() and path.name.lower() not in NOT_INDEXED_NAMES
            and not path.name.startswith(".")
            and not NOT_INDEXED_DIRS.intersection(path.relative_to(corpus_dir).parts[:-1])]


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The files of the corpus that are indexed, in a stable order."""
    return [path for path in _candidates(corpus_dir) if path.suffix.lower() in LOADERS]


def unsupported_files(corpus_dir: Path) -> list[str]:
    """Files in the corpus that no loader reads (a .docx, an .xlsx): reported, so none is ignored silently."""
    return [path.relative_to(corpus_dir).as_posix() for path in _candidates(corpus_dir)
            if path.suffix.lower() not in LOADERS and path.suffix.lower() not in KNOWN_SIDE_FILES]


def load_file(path: Path, corpus_dir: Path) -> list[Document]:
    """Load one corpus file; raises LoadError with the reason when it cannot be read."""
    rel = path.relative_to(corpus_dir).as_posix()
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # bytes the file system gave that are no text: the index stores names as text
        raise LoadError("its name is not valid UTF-8 text: rename the file") from None
    try:
        return LOADERS[path.suffix.lower()](path, rel)
    except UnicodeDecodeError as exc:
        raise LoadError(f"not UTF-8 text: {exc}") from exc
