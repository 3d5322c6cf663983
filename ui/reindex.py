"""Staff re-index over HTTP: the corpus is indexed inside the server process, then served."""

import logging
import threading
from datetime import UTC, datetime

from bot.answer import Bot
from bot.settings import Settings
from index.build import build_index
from index.store import open_client
from ui.service import AskService

log = logging.getLogger(__name__)


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
