"""Is a question for investbot at all? Prompt injection, places outside Lombardy, and off-topic intents."""

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

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

# Kinds of questions the corpus never answers. They are compared by meaning (e5 is multilingual), so a
# question in any language about the same intent is caught; the corpus itself is the counterweight.
OFF_TOPIC = [
    "What is the weather forecast for tomorrow?",
    "Write a Python function or fix my code",
    "How much does it cost to rent an apartment or office right now?",
    "What are today's news headlines?",
    "What is the current stock price or exchange rate?",
    "What is the corporate tax rate and tax law in another country?",
    "Give me a recipe for dinner",
    "Who won the football match?",
    "Tell me a joke or a poem",
    "I have a headache, what medicine should I take?",
    "Translate this sentence for me",
    "Which flight or train should I book to travel?",
    "What is the population or economy of another country or region?",
    "Who will win the next election?",
]


@dataclass
class ScopeVerdict:
    in_scope: bool
    reason: str = ""  # "injection", "elsewhere:<place>", "off_topic", "no_evidence"


class ScopeGuard:
    def __init__(self, embeddings: Embeddings, geo_dir: Path, floor: float, margin: float = 0.0) -> None:
        self.embeddings = embeddings
        self.geo_dir = geo_dir
        self.floor = floor
        self.margin = margin

    @cached_property
    def _off_topic(self) -> np.ndarray:
        return np.array([self.embeddings.embed_query(q) for q in OFF_TOPIC])

    def before_retrieval(self, question: str) -> ScopeVerdict:
        if INJECTION.search(question):
            return ScopeVerdict(False, "injection")
        place = foreign_place(question)
        if place and not mentions_lombardy(question, self.geo_dir):
            return ScopeVerdict(False, f"elsewhere:{place}")
        return ScopeVerdict(True)

    def after_retrieval(self, query_vector: list[float], best_similarity: float) -> ScopeVerdict:
        if best_similarity < self.floor:
            return ScopeVerdict(False, "no_evidence")
        off_topic = float(np.max(self._off_topic @ np.asarray(query_vector)))
        if off_topic > best_similarity + self.margin:
            return ScopeVerdict(False, "off_topic")
        return ScopeVerdict(True)
