"""Is a question for investbot at all? Prompt injection and places outside Lombardy."""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.find.gazetteer import foreign_place, mentions_lombardy
from bot.languages import all_languages


@cache
def injection() -> re.Pattern:
    """Attempts to steer or inspect the bot itself: each language file's `injection` patterns. No offline library
    detects these reliably, so the usual openings are listed; anything subtler still meets the relevance floor."""
    patterns = [p for data in all_languages().values() for p in data.get("injection") or []]
    return re.compile("|".join(f"(?:{p})" for p in patterns) or "(?!)", re.IGNORECASE)


@dataclass
class ScopeVerdict:
    in_scope: bool
    reason: str = ""  # "injection" or "elsewhere:<place>"


class ScopeGuard:
    """The checks before meaning is weighed: attempts to steer the bot, places outside Lombardy; and after
    retrieval, for questions no intent claims, the relevance floor. Off-topic questions are an intent of the router
    (bot/route/intents.yaml), learnt from examples in every language."""

    def __init__(self, geo_dir: Path, floor: float) -> None:
        self.geo_dir = geo_dir
        self.floor = floor

    def before_retrieval(self, question: str) -> ScopeVerdict:
        if injection().search(question):
            return ScopeVerdict(False, "injection")
        place = foreign_place(question)
        if place and not mentions_lombardy(question, self.geo_dir):
            return ScopeVerdict(False, f"elsewhere:{place}")
        return ScopeVerdict(True)

    def relevant(self, best_similarity: float) -> bool:
        return best_similarity >= self.floor
