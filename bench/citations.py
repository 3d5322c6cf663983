"""Prints where the public eval's answers send investors: the share of citations that point to the agency, a
public body, or the cited organisation's own site, against press and aggregator pages.

    .venv/bin/python bench/citations.py [--data DIR]

Run it on two commits to compare corpora (each builds its own index in a temporary data dir unless --data is given).
"""

import argparse
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import yaml

from bot.answer import Bot
from bot.settings import Settings
from evals.cases import load_cases

REPO = Path(__file__).resolve().parent.parent


def domain(url: str) -> str:
    return (urlparse(url or "").hostname or "").removeprefix("www.")


def within(host: str, domains: list[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def kind_of(url: str, website: str | None, kinds: dict[str, list[str]]) -> str:
    host = domain(url)
    if website and host and (host == domain(website) or host.endswith("." + domain(website))):
        return "own site"
    for kind, domains in kinds.items():
        if within(host, domains):
            return kind.replace("_", " ")
    return "press, aggregator or other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="data dir (default: a temporary one)")
    args = parser.parse_args()
    kinds = yaml.safe_load((REPO / "bench" / "domains.yaml").read_text(encoding="utf-8"))
    settings = Settings(data_dir=args.data or Path(tempfile.mkdtemp(prefix="investbot-cite-")),
                        corpus_dir=REPO / "corpus")
    bot = Bot.from_settings(settings)
    records = bot.retriever.records
    counts: Counter[str] = Counter()
    for case in load_cases(REPO / "evals" / "questions.yaml"):
        answer = bot.answer(case.question, history=[t.model_dump() for t in case.history])
        for c in answer.citations:
            record = records.get(c.source_id.split("#")[0], {})
            counts[kind_of(c.url, record.get("website"), kinds)] += 1
    total = sum(counts.values()) or 1
    for kind, n in counts.most_common():
        print(f"{kind:28} {n:5}  {n / total:6.1%}")
    good = sum(n for k, n in counts.items() if k != "press, aggregator or other")
    print(f"{'agency, public body or own site':28} {good:5}  {good / total:6.1%}   of {total} citations")


if __name__ == "__main__":
    main()
