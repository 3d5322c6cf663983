"""What the UI, the widget and the API share: one Bot, per-client rate limits, and the question log."""

import itertools
import json
import logging
import sqlite3
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from bot.answer import Answer, Bot
from bot.settings import Settings
from index.build import build_index
from index.store import open_client

log = logging.getLogger(__name__)

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


class Reindexer:
    """Re-indexes the corpus inside the server process (a second process must not write an embedded Chroma that
    this one is serving), then swaps the service's bot for one that reads the new index. Questions are answered
    from the old index until then; one re-index runs at a time."""

    def __init__(self, service: AskService, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.status: dict = {"state": "idle"}

    def start(self) -> bool:
        """False when a re-index is already running."""
        with self._lock:
            if self._thread and self._thread.is_alive():
                return False
            self.status = {"state": "running", "started_at": _now(), "files_done": 0, "files": None}
            self._thread = threading.Thread(target=self._run, name="reindex", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float | None = None) -> None:
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        def progress(done: int, total: int, current: str) -> None:
            self.status.update(files_done=done, files=total, current=current)

        try:
            settings = self.settings
            client = open_client(settings.data_dir, settings.chroma_host, settings.chroma_port)
            summary = build_index(client, settings.corpus_dir, settings.data_dir, progress=progress)
            self.service.bot = Bot.from_settings(settings, client)
            self.status = {"state": "done", "finished_at": _now(), "summary": summary.line(),
                           "failures": [{"file": f, "reason": r} for f, r in summary.failures]}
            log.warning("re-indexed over HTTP: %s", summary.line())
        except Exception as exc:  # the old index keeps serving; the reason is reported to the caller
            log.exception("re-index failed")
            self.status = {"state": "failed", "finished_at": _now(), "error": f"{type(exc).__name__}: {exc}"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
