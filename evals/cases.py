"""The eval file format (DESIGN.md): a YAML list of cases, validated with clear errors."""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CATEGORIES = ("clusters", "s3", "competence_centres", "human_capital", "hubs", "where_to_locate", "economy",
              "contact", "follow_up", "out_of_scope", "injection")


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

    @field_validator("expect_facts")
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
    return cases
