"""What an answer is made of, as every part of investbot sees it: the answer object the API, the chat, the widget
and the eval share, its citations and hubs, and what a builder composes. One module, so the parts that build
answers and the parts that show them depend on it, not on each other."""

from dataclasses import asdict, dataclass, field

from bot.route.router import FREE_TEXT
from bot.write.html import answer_html


@dataclass
class Citation:
    n: int
    source_id: str
    title: str
    url: str
    page: int | None
    snippet: str


@dataclass
class HubRef:
    id: str
    name: str
    type: str
    city: str
    province: str
    lat: float
    lon: float
    coord_precision: str
    website: str | None
    sectors: list[str] = field(default_factory=list)


@dataclass
class Composition:
    markdown: str
    citations: list[Citation] = field(default_factory=list)
    hubs: list[HubRef] = field(default_factory=list)


class BadQuestion(ValueError):
    """A question that cannot be answered as asked (empty, too long); the message says why."""


class QuestionTooLong(BadQuestion):
    pass


@dataclass
class Answer:
    question: str
    answer: str
    language: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    hubs: list[HubRef] = field(default_factory=list)
    backend: str = "grounded"
    intent: str = FREE_TEXT  # the route the question took (bot/route/intents.yaml)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {**asdict(self), "answer_html": self.html()}

    def html(self) -> str:
        """The answer as sanitised HTML, citation markers linking to their sources."""
        return answer_html(self.answer, {c.n: c.url for c in self.citations if c.url})
