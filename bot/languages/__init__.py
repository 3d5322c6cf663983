"""The languages investbot speaks: one YAML file per language in this folder (phrases, number words, …).

Adding a language means adding one file named after its ISO 639-1 code.
"""

import re
from functools import lru_cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent


@lru_cache(maxsize=1)
def all_languages() -> dict[str, dict]:
    """Every language file, English first (the language records are written in and checked against)."""
    files = sorted((p for p in HERE.glob("*.yaml") if not p.stem.startswith("_")),
                   key=lambda p: (p.stem != "en", p.stem))
    # libyaml's safe loader when PyYAML was built with it: the pure-Python one took 0.3 s of every start
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {p.stem: yaml.load(p.read_text(encoding="utf-8"), Loader=loader) for p in files}  # noqa: S506 - safe


@lru_cache(maxsize=1)
def language_names() -> dict[str, str]:
    """English names of every language the detector recognises: those with a file, then the others."""
    others = yaml.safe_load((HERE / "_recognised.yaml").read_text(encoding="utf-8"))
    return {code: data["english_name"] for code, data in all_languages().items()} | others


def codes() -> tuple[str, ...]:
    return tuple(all_languages())


def language(code: str) -> dict:
    return all_languages().get(code) or all_languages()["en"]


def with_short_forms(text: str, code: str) -> str:
    """The text with each long form it spells out written as the sources write it ("Bruttoinlandsprodukt" ->
    "BIP"): the embedder hardly tells the long form from neighbouring figures (GDP from value added), and the
    lexical search needs the sources' word. The pairs are `short_forms` in each language file."""
    for long, short in (language(code).get("short_forms") or {}).items():
        text = re.sub(re.escape(long), short, text, flags=re.IGNORECASE)
    return text
