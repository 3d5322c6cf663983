"""What the UI, the widget and the API share: one Bot, per-client rate limits, and the question log."""

import itertools
import json
import sqlite3
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path

from bot.answer import Answer, Bot

SCHEMA = """CREATE TABLE IF NOT EXISTS questions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL, channel TEXT NOT NULL, question TEXT NOT NULL,
  language TEXT, answer TEXT, sources TEXT, refused INTEGER, latency_ms REAL, thumbs INTEGER)"""


class RateLimited(Exception):
    """Too many questions from one client in the last minute; the message says when to try again."""


class RateLimiter:
    """A sliding one-minute window per client key, kept in memory only (no IP address is stored)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            window = self._seen[client]
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= self.per_minute:
                wait = int(60 - (now - window[0])) + 1
                raise RateLimited(f"Too many questions: the limit is {self.per_minute} a minute. "
                                  f"Please try again in {wait} seconds.")
            window.append(now)


class QuestionLog:
    """Questions, answers and thumbs in SQLite under the data dir, for staff to export."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(SCHEMA)

    def record(self, answer: Answer, channel: str) -> int:
        sources = json.dumps([c.source_id for c in answer.citations])
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT INTO questions (asked_at, channel, question, language, answer, sources, refused, latency_ms)"
                " VALUES (datetime('now'), ?, ?, ?, ?, ?, ?, ?)",
                (channel, answer.question, answer.language, answer.answer, sources, int(answer.refused),
                 answer.timings_ms.get("total")))
            return int(cur.lastrowid)

    def thumbs(self, question_id: int, up: bool) -> bool:
        with self._lock, self._db:
            cur = self._db.execute("UPDATE questions SET thumbs = ? WHERE id = ?", (1 if up else -1, question_id))
            return cur.rowcount == 1

    def rows(self) -> tuple[list[str], list[tuple]]:
        with self._lock:
            cur = self._db.execute("SELECT * FROM questions ORDER BY id")
            return [d[0] for d in cur.description], cur.fetchall()


class AskService:
    def __init__(self, bot: Bot, log: QuestionLog, limiter: RateLimiter) -> None:
        self.bot = bot
        self.log = log
        self.limiter = limiter

    def ask(self, question: str, history: list[dict] | None, lang: str | None, client: str,
            channel: str) -> tuple[Answer, int]:
        *_, final = self.stream(question, history, lang, client, channel)
        return final

    def stream(self, question: str, history: list[dict] | None, lang: str | None, client: str,
               channel: str) -> Iterator[str | tuple[Answer, int]]:
        """Pieces of a language model's answer as they pass the grounding check, then the final answer and its
        question-log id. BadQuestion and RateLimited are raised before anything is yielded."""
        self.limiter.check(client)
        pieces = self.bot.stream(question, history=history, lang=lang)
        first = next(pieces)  # validates the question before the caller starts a response
        for item in itertools.chain([first], pieces):
            if isinstance(item, Answer):
                yield item, self.log.record(item, channel)
            else:
                yield item
