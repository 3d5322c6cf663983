"""Routing by meaning: a logistic regression over the multilingual embeddings of labelled example questions (in
every language) tells which intent a question has. The intents are data (bot/route/intents.yaml); the examples live in
the language files, so a new language brings its own.

Measured on the held-out routing set (evals/routing.yaml, 330 questions): nearest examples (mean of the 3 closest)
92 %, logistic regression 97 % (C=64; 91 % at C=1, 96 % at C=16, 96 % at C=1000).
"""

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import yaml
from langchain_core.embeddings import Embeddings

from bot.derived import derived_file, write_derived
from bot.languages import all_languages
from bot.tuning import INVERSE_REGULARISATION, ROUTE_FLOOR
from index.embeddings import MODEL_NAME

FREE_TEXT = "free_text"  # no intent is likely enough: answered from retrieval alone


@lru_cache(maxsize=1)
def intents() -> dict[str, dict]:
    return yaml.safe_load((files("bot.route") / "intents.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Route:
    intent: str
    score: float
    runner_up: str | None = None
    runner_up_score: float = 0.0

    @property
    def spec(self) -> dict:
        return intents().get(self.intent, {"builder": "free_text"})


class Router:
    """A fitted multinomial logistic regression: its classes, weights and intercepts."""

    def __init__(self, classes: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.classes, self.coef, self.intercept = classes, coef, intercept

    @classmethod
    def fit(cls, labels: list[str], vectors: np.ndarray) -> "Router":
        from sklearn.linear_model import LogisticRegression  # only to fit: its import alone takes 0.8 s

        model = LogisticRegression(C=INVERSE_REGULARISATION, max_iter=3000).fit(vectors, labels)
        return cls(model.classes_.astype(str), model.coef_, model.intercept_)

    @classmethod
    def from_languages(cls, embeddings: Embeddings) -> "Router":
        """Fitted on every language file's examples, embedded as queries. The fitted weights are kept in the data
        dir (bot/derived.py) under a hash of the examples and the embedding model, so a start (`investbot ask`)
        loads them instead of embedding the examples and fitting again (about 2 s of a 4.7 s start)."""
        labels, texts = (list(column) for column in zip(*examples(), strict=True))
        key = hashlib.sha256(repr((labels, texts, INVERSE_REGULARISATION, MODEL_NAME)).encode()).hexdigest()[:16]
        cached = derived_file(f"router-{key}.npz")
        if cached and cached.exists():
            with np.load(cached) as fitted:
                return cls(fitted["classes"], fitted["coef"], fitted["intercept"])
        router = cls.fit(labels, np.asarray(embeddings.embed_documents(texts), dtype=np.float32))
        if cached:
            write_derived(cached, router.save)
        return router

    def save(self, path: Path) -> None:
        with path.open("wb") as out:  # a file object: np.savez would add ".npz" to a name without it
            np.savez(out, classes=self.classes, coef=self.coef, intercept=self.intercept)

    def probabilities(self, query_vector: list[float] | np.ndarray) -> np.ndarray:
        """The multinomial logistic regression's class probabilities: the softmax of the linear scores."""
        scores = self.coef @ np.asarray(query_vector, dtype=np.float64) + self.intercept
        exp = np.exp(scores - scores.max())
        return exp / exp.sum()

    def classify(self, query_vector: list[float] | np.ndarray) -> Route:
        probabilities = self.probabilities(query_vector)
        first, second = np.argsort(-probabilities)[:2]
        best, runner_up = str(self.classes[first]), str(self.classes[second])
        if probabilities[first] < ROUTE_FLOOR:
            return Route(FREE_TEXT, float(probabilities[first]), best)
        return Route(best, float(probabilities[first]), runner_up, float(probabilities[second]))


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
