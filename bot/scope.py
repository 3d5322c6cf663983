"""Is a question for investbot at all? Prompt injection and places outside Lombardy."""

import re
from dataclasses import dataclass
from pathlib import Path

from bot.gazetteer import foreign_place, mentions_lombardy

# Attempts to steer or inspect the bot itself. No offline library detects these reliably, so a short,
# multilingual pattern list catches the usual openings; anything subtler still meets the relevance floor.
INJECTION = re.compile(
    r"ignor\w*\s+(?:all\s+|the\s+|your\s+|previous\s+|prior\s+|above\s+|any\s+)*(?:instruction|rule|prompt)"
    r"|disregard\s+\w*\s*(?:instruction|rule)|(?:system|hidden|initial)\s+prompt|prompt\s+di\s+sistema"
    r"|reveal\s+(?:your|the)\s+\w+|(?:api|secret)\s*key|password|environment\s+variable|your\s+configuration"
    r"|you\s+are\s+now\b|pretend\s+(?:to\s+be|you)|act\s+as\s+(?:a|an|my)\b|jailbreak|developer\s+mode"
    r"|ignora\w*\s+(?:le\s+|tutte\s+le\s+|tue\s+)*istruzion|dimentica\s+le\s+istruzion"
    r"|ignorier\w*\s+(?:alle\s+|deine\s+|die\s+)*(?:anweisung|regel)|vergiss\s+\w*\s*anweisung"
    r"|ignor\w*\s+(?:toutes\s+|tes\s+|vos\s+|les\s+)*(?:instruction|consigne)"
    r"|ignora\w*\s+(?:todas\s+|tus\s+|las\s+)*instruccion|忽略.{0,6}(?:指令|指示|说明)|系统提示",
    re.IGNORECASE,
)

@dataclass
class ScopeVerdict:
    in_scope: bool
    reason: str = ""  # "injection" or "elsewhere:<place>"


class ScopeGuard:
    """The checks before meaning is weighed: attempts to steer the bot, places outside Lombardy; and after
    retrieval, for questions no intent claims, the relevance floor. Off-topic questions are an intent of the router
    (bot/intents.yaml), learnt from examples in every language."""

    def __init__(self, geo_dir: Path, floor: float) -> None:
        self.geo_dir = geo_dir
        self.floor = floor

    def before_retrieval(self, question: str) -> ScopeVerdict:
        if INJECTION.search(question):
            return ScopeVerdict(False, "injection")
        place = foreign_place(question)
        if place and not mentions_lombardy(question, self.geo_dir):
            return ScopeVerdict(False, f"elsewhere:{place}")
        return ScopeVerdict(True)

    def relevant(self, best_similarity: float) -> bool:
        return best_similarity >= self.floor
