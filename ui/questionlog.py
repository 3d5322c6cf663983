"""Questions, answers and thumbs, kept in SQLite for staff to export (no IP addresses)."""

import json
import sqlite3
import threading
from pathlib import Path

from bot.types import Answer

SCHEMA = """CREATE TABLE IF NOT EXISTS questions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL, channel TEXT NOT NULL, question TEXT NOT NULL,
  language TEXT, answer TEXT, sources TEXT, refused INTEGER, latency_ms REAL, thumbs INTEGER)"""


class QuestionLog:
    """Questions, answers and thumbs in SQLite under the data dir, for staff to export."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            # A write-ahead log, synced at checkpoints rather than at every answer: under load the per-answer
            # sync held the log's lock (and the answers behind it) for milliseconds. A crash of the server loses
            # nothing; a power cut may lose the last answers' log lines, never the file.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
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
