"""The ask service the chat, the widget and the API share: one Bot (built in the background on a first start), the
rate limits and the question log."""

import itertools
import logging
import threading
from collections.abc import Iterator

from bot.answer import Bot
from bot.settings import Settings
from bot.types import Answer
from ui.labels import ui_labels
from ui.questionlog import QuestionLog
from ui.ratelimit import RateLimiter

log = logging.getLogger(__name__)


class NotReady(Exception):
    """The bot is still being built (the index on a first start); the message says so."""


# Staff read the cause in the server's log; /healthz and the API are public, and an exception's text names paths.
BUILD_FAILED = "The index could not be built; the server's log says why (then run `investbot index`)."


class AskService:
    """`bot` is None while it is being built; `status` says how far the build is ("building", "ready", "failed")."""

    def __init__(self, bot: Bot | None, log: QuestionLog, limiter: RateLimiter) -> None:
        self.bot = bot
        self.log = log
        self.limiter = limiter
        self.status: dict = {"status": "ok"} if bot else {"status": "building", "files_done": 0, "files": None}

    def start_building(self, settings: Settings) -> threading.Thread:
        """Build the bot (and the index, when there is none) in the background: the server answers at once, with
        the progress, and serves questions when the bot is ready."""
        def progress(done: int, total: int, current: str) -> None:
            self.status.update(files_done=done, files=total, current=current)

        def build() -> None:
            try:
                self.bot = Bot.from_settings(settings, progress=progress)
                self.status = {"status": "ok"}
            except Exception:  # the server stays up to say so; what failed goes to the log, not to the public
                log.exception("the bot could not be built")
                self.status = {"status": "failed", "error": BUILD_FAILED}

        thread = threading.Thread(target=build, name="build-bot", daemon=True)
        thread.start()
        return thread

    def ready_bot(self) -> Bot:
        if self.bot is None:
            raise NotReady(ui_labels("en")["building"])  # the words the server's 503 gives while building
        return self.bot

    def ask(self, question: str, history: list[dict] | None, lang: str | None, client: str,
            channel: str) -> tuple[Answer, int]:
        *_, final = self.stream(question, history, lang, client, channel)
        return final

    def stream(self, question: str, history: list[dict] | None, lang: str | None, client: str,
               channel: str) -> Iterator[str | tuple[Answer, int]]:
        """Pieces of a language model's answer as they pass the grounding check, then the final answer and its
        question-log id. NotReady, BadQuestion and RateLimited are raised before anything is yielded."""
        bot = self.ready_bot()
        self.limiter.check(client)
        pieces = bot.stream(question, history=history, lang=lang)
        first = next(pieces)  # validates the question before the caller starts a response
        for item in itertools.chain([first], pieces):
            if isinstance(item, Answer):
                yield item, self.log.record(item, channel)
            else:
                yield item
