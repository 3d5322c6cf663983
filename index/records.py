"""The schema of every corpus record kind, and `check_corpus`, which validates the whole corpus."""

import csv
import json
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from index.summaries import NOTE_PATTERNS, summary_problems

PROVINCES = {
    "BG": "Bergamo", "BS": "Brescia", "CO": "Como", "CR": "Cremona", "LC": "Lecco", "LO": "Lodi",
    "MB": "Monza e Brianza", "MI": "Milano", "MN": "Mantova", "PV": "Pavia", "SO": "Sondrio", "VA": "Varese",
}
# Lombardy's bounding box (from corpus/geo/lombardy_provinces.geojson, rounded outwards).
LAT_RANGE = (44.67, 46.64)
LON_RANGE = (8.49, 11.43)
HUB_TYPES = Literal[
    "incubator", "accelerator", "innovation_hub", "science_park", "research_centre", "competence_centre",
    "coworking", "digital_innovation_hub", "university_tto",
]

SOURCE_ID = re.compile(r"^[a-z0-9]+:[a-z0-9][a-z0-9._-]*$")


class RecordBase(BaseModel):
    """What every record has. `summary` (1-3 sentences per language) and `text` (the details, in `language`) are
    what investors read and what is indexed; `notes` (curation doubts) are kept, never indexed, never shown."""

    model_config = ConfigDict(extra="allow")

    id: str
    kind: str
    title: str = Field(min_length=1)
    url: HttpUrl
    sources: list[HttpUrl] = Field(min_length=1)  # best first: the organisation, the agency, the Region, statistics
    language: str = "en"
    summary: dict[str, str]
    text: str = Field(min_length=20)
    notes: list[str] = []
    confidence: Literal["confirmed", "reported"] = "confirmed"  # reported: one secondary source, attributed in text
    roles: list[str] = []  # what the bot looks a record up for, e.g. "agency_contact", "site_scouting"

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not SOURCE_ID.match(value):
            raise ValueError(f"id {value!r} is not of the form 'prefix:slug'")
        return value

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        if note := NOTE_PATTERNS.search(value):
            raise ValueError(f"text holds a curation note or a raw field label ({note.group(0)!r}): move it to notes")
        return value

    @field_validator("summary")
    @classmethod
    def _has_english(cls, value: dict[str, str]) -> dict[str, str]:
        if not (value.get("en") or "").strip():
            raise ValueError("summary needs at least the English text ('en'), the one the others are checked against")
        return value


class ClusterRecord(RecordBase):
    kind: Literal["cluster"]
    name_it: str | None = None
    acronym: str | None = None
    s3_areas: list[str] = Field(min_length=1)  # ids of S3 area records
    website: HttpUrl | None = None


class S3Record(RecordBase):
    kind: Literal["s3"]
    name_it: str | None = None  # an area's official name
    names: dict[str, str] = {}  # an area's name in each language, as its summaries write it


class CompetenceCentreRecord(RecordBase):
    kind: Literal["competence_centre"]


class UniversityRecord(RecordBase):
    kind: Literal["university"]
    city: str


class ITSRecord(RecordBase):
    kind: Literal["its"]
    city: str


class FactRecord(RecordBase):
    kind: Literal["fact"]
    topic: str
    year: int | None = None


class HubRecord(RecordBase):
    kind: Literal["hub"]
    name: str
    type: HUB_TYPES
    city: str
    province: str
    address: str | None = None
    lat: float
    lon: float
    coord_precision: Literal["city", "address"]
    sectors: list[str] = []
    s3_areas: list[str] = []  # ids of S3 area records
    founded: int | None = None
    website: HttpUrl | None = None

    @field_validator("province")
    @classmethod
    def _known_province(cls, value: str) -> str:
        if value not in PROVINCES:
            raise ValueError(f"province {value!r} is not one of {', '.join(sorted(PROVINCES))}")
        return value

    @field_validator("lat", "lon")
    @classmethod
    def _in_lombardy(cls, value: float, info: ValidationInfo) -> float:
        low, high = LAT_RANGE if info.field_name == "lat" else LON_RANGE
        if not low <= value <= high:
            raise ValueError(f"{'latitude' if info.field_name == 'lat' else 'longitude'} {value} is outside Lombardy")
        return value


Record = Annotated[
    ClusterRecord | S3Record | CompetenceCentreRecord | UniversityRecord | ITSRecord | FactRecord | HubRecord,
    Field(discriminator="kind"),
]
RECORDS = TypeAdapter(list[Record])


class Provenance(BaseModel):
    """Front matter of a Markdown/text file, or the <file>.meta.yaml beside any other file."""

    model_config = ConfigDict(extra="allow")
    id: str
    title: str
    url: HttpUrl
    language: str = "en"
    page_urls: dict[int, HttpUrl] = {}  # a PDF compiled from several sources: each page's own source


def read_records(path: Path) -> list[RecordBase]:
    """Parse and validate a JSON record file; raises ValueError naming the entry and field."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    if not isinstance(raw, list):
        raise ValueError("a record file must hold a JSON list of records")
    try:
        return RECORDS.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{exc.error_count()} invalid field(s), first at entry {where}: {first['msg']}") from exc


def split_front_matter(text: str) -> tuple[dict, str]:
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end > 0:
            return yaml.safe_load(text[4:end]) or {}, text[end + 5:]
    return {}, text


def provenance_for(path: Path) -> Provenance | None:
    """The provenance of a corpus file: Markdown front matter, else a <name>.meta.yaml beside it."""
    meta = path.with_name(path.stem + ".meta.yaml")
    if meta.exists():
        return Provenance.model_validate(yaml.safe_load(meta.read_text(encoding="utf-8")))
    if path.suffix in {".md", ".txt"}:
        front, _ = split_front_matter(path.read_text(encoding="utf-8"))
        if front:
            return Provenance.model_validate(front)
    return None


def check_corpus(corpus_dir: Path) -> tuple[int, list[str]]:
    """Validate the whole corpus as the indexer reads it: returns (records checked, problems)."""
    from index.loaders import LoadError, corpus_files, duplicate_ids, load_file  # loaders build on this module
    from index.screen import screened

    problems: list[str] = []
    seen: dict[str, str] = {}
    records: list[tuple[str, RecordBase]] = []
    count = 0
    for path in corpus_files(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        try:
            docs = load_file(path, corpus_dir)
        except Exception as exc:  # as the indexer: one bad file is reported, the others are still checked
            problems.append(f"{rel}: {exc if isinstance(exc, LoadError) else f'{type(exc).__name__}: {exc}'}")
            continue
        problems += [f"{rel}: {note}" for note in screened(docs, path)[1] + duplicate_ids(docs)]
        for id_ in dict.fromkeys(d.metadata["source_id"] for d in docs):
            if not SOURCE_ID.match(id_):
                problems.append(f"{rel}: id {id_!r} is not of the form 'prefix:slug'")
            if id_ in seen:
                problems.append(f"{rel}: duplicate id {id_} (also in {seen[id_]})")
            seen[id_] = rel
            count += 1
        if path.suffix == ".json":
            records += [(rel, r) for r in read_records(path)]
    problems += _check_records(records, seen)
    municipalities = corpus_dir / "geo" / "lombardy_municipalities.csv"
    if municipalities.exists():
        count += _check_municipalities(municipalities, problems)
    return count, problems


def organisation_names(records: list[RecordBase]) -> set[str]:
    """Acronyms the corpus knows organisations by (a record's acronym, the capitalised tokens of its title): they
    must be spelled the same in every language of a summary."""
    names = {r.acronym for r in records if getattr(r, "acronym", None)}
    for r in records:
        names.update(t for t in _ACRONYM.findall(r.title) if "&" not in t)
    return names


_ACRONYM = re.compile(r"(?<!\w)[A-Z][A-Z0-9.&-]*[A-Z0-9](?!\w)")


def _check_records(records: list[tuple[str, RecordBase]], ids: dict[str, str]) -> list[str]:
    """Summaries in every language saying the same thing, and links that point to records of the right kind."""
    problems = []
    names = organisation_names([r for _, r in records])
    kinds = {r.id: r.kind for _, r in records}
    for rel, record in records:
        problems += [f"{rel}: {record.id}: {p}" for p in summary_problems(record.summary, names)]
        for area in getattr(record, "s3_areas", []):
            if kinds.get(area) != "s3":
                problems.append(f"{rel}: {record.id}: s3_areas names {area!r}, which is no S3 record of the corpus")
    return problems


def _check_municipalities(path: Path, problems: list[str]) -> int:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for row in rows:
        lat, lon = float(row["lat"]), float(row["lon"])
        if row["province"] not in PROVINCES:
            problems.append(f"{path.name}: {row['name']}: unknown province {row['province']}")
        if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
            problems.append(f"{path.name}: {row['name']}: coordinates outside Lombardy")
    return len(rows)
