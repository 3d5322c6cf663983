"""The eval file format (DESIGN.md): a YAML list of cases, validated with clear errors."""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str


class EvalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    language: str | None = None
    category: str = "general"
    expect_sources: list[str] = []
    expect_facts: list[list[str]] = []
    expect_refusal: bool = False
    history: list[Turn] = []
    # Investor-grade checks (evals/README.md explains each with an example)
    content_language: str | None = None  # the prose's language; default: `language`
    lead: list[list[str]] = []  # fact groups that must be in the answer's first sentence
    forbid: list[str] = []  # strings that must not appear
    hub_sector: list[str] = []  # every hub shown matches one of these words (its sectors, S3 area ids, name)
    hub_province: list[str] = []  # every hub shown is in one of these provinces
    hub_type: list[str] = []  # every hub shown is of one of these types
    min_hubs: int | None = Field(default=None, ge=0)
    max_hubs: int | None = Field(default=None, ge=0)
    max_statements: int | None = Field(default=None, ge=1)
    variant_of: str | None = None  # the id of the same question in another language
    intent: str | None = None  # the route the question must take, when the answer object names one

    @property
    def prose_language(self) -> str | None:
        return self.content_language or self.language

    @field_validator("expect_facts", "lead")
    @classmethod
    def _groups_not_empty(cls, groups: list[list[str]]) -> list[list[str]]:
        if any(not group or not all(alt.strip() for alt in group) for group in groups):
            raise ValueError("every fact group needs at least one non-empty alternative")
        return groups


class EvalFileError(ValueError):
    """A malformed eval file; the message names the file, the entry and the field."""


def load_cases(path: Path) -> list[EvalCase]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvalFileError(f"{path}: cannot read it as YAML: {exc}") from exc
    if not isinstance(raw, list):
        raise EvalFileError(f"{path}: an eval file is a YAML list of cases")
    cases, seen = [], set()
    for position, entry in enumerate(raw, start=1):
        named = isinstance(entry, dict) and "id" in entry
        label = f"entry {position}" + (f" (id {entry['id']!r})" if named else "")
        if not isinstance(entry, dict):
            raise EvalFileError(f"{path}: {label}: a case is a mapping with id and question")
        try:
            case = EvalCase.model_validate(entry)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"]) or "?"
            raise EvalFileError(f"{path}: {label}: field '{field}': {error['msg']}") from exc
        if case.id in seen:
            raise EvalFileError(f"{path}: {label}: duplicate id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    for case in cases:
        if case.variant_of and case.variant_of not in seen:
            raise EvalFileError(f"{path}: id {case.id!r}: variant_of names no case in the file: {case.variant_of!r}")
    return cases
