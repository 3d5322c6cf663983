"""One server: FastAPI with the HTTP API, the widget, /healthz, and the Gradio chat mounted at /."""

import itertools
import json
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from bot.answer import BadQuestion, Bot, QuestionTooLong
from bot.settings import Settings
from ui.app import build_app
from ui.service import AskService, QuestionLog, RateLimited, RateLimiter, Reindexer

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


class Turn(BaseModel):
    role: str = Field(pattern="^(user|assistant)$")
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    question: str
    history: list[Turn] = Field(default_factory=list, max_length=40)
    lang: str | None = Field(None, max_length=5)


class Feedback(BaseModel):
    id: int
    up: bool


def frame_ancestors(allowed: list[str]) -> str:
    return "frame-ancestors " + " ".join(["'self'", *allowed])


def client_key(request: Request) -> str:
    return request.client.host if request.client else "-"


def create_app(settings: Settings, bot: Bot | None = None) -> FastAPI:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    bot = bot or Bot.from_settings(settings)
    service = AskService(bot, QuestionLog(settings.data_dir / "questions.sqlite3"), RateLimiter(settings.rate_limit))
    allowed = [o.rstrip("/") for o in settings.allowed_origins]
    app = FastAPI(title="investbot", docs_url=None, redoc_url=None)
    app.state.service = service
    app.add_middleware(CORSMiddleware, allow_origins=allowed, allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type"])  # not Authorization: staff calls come from tools, not sites

    def refuse(exc: Exception) -> JSONResponse:
        if isinstance(exc, RateLimited):
            return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": "60"})
        return JSONResponse({"detail": str(exc)}, status_code=413 if isinstance(exc, QuestionTooLong) else 400)

    @app.post("/api/ask")
    def ask(body: AskRequest, request: Request) -> JSONResponse:
        try:
            answer, log_id = service.ask(body.question, [t.model_dump() for t in body.history], body.lang,
                                         client_key(request), "api")
        except (RateLimited, BadQuestion) as exc:
            return refuse(exc)
        return JSONResponse({**answer.to_dict(), "id": log_id})

    @app.post("/api/ask/stream", response_model=None)
    def ask_stream(body: AskRequest, request: Request) -> StreamingResponse | JSONResponse:
        """NDJSON: {"delta": text} for each piece of a language model's answer that passed the grounding check,
        then {"answer": {...}}, whose text replaces the pieces."""
        items = service.stream(body.question, [t.model_dump() for t in body.history], body.lang,
                               client_key(request), "api")
        try:
            first = next(items)
        except (RateLimited, BadQuestion) as exc:
            return refuse(exc)

        def lines() -> Iterator[str]:
            for item in itertools.chain([first], items):
                if isinstance(item, str):
                    yield json.dumps({"delta": item}, ensure_ascii=False) + "\n"
                else:
                    answer, log_id = item
                    yield json.dumps({"answer": {**answer.to_dict(), "id": log_id}}, ensure_ascii=False) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    reindexer = Reindexer(service, settings)
    app.state.reindexer = reindexer

    def staff_only(request: Request) -> JSONResponse | None:
        """None when the request carries the admin token; otherwise the refusal to send."""
        if settings.admin_token is None:
            return JSONResponse({"detail": "Re-indexing over HTTP is off: set INVESTBOT_ADMIN_TOKEN."},
                                status_code=403)
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(given.encode(), settings.admin_token.get_secret_value().encode()):
            return JSONResponse({"detail": "Missing or wrong admin token (Authorization: Bearer …)."},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return None

    @app.post("/api/reindex")
    def reindex(request: Request) -> JSONResponse:
        """Staff: re-index corpus/ now (what changed only) and serve the new index when it is built."""
        if refused := staff_only(request):
            return refused
        if not reindexer.start():
            return JSONResponse({"detail": "A re-index is already running.", **reindexer.status}, status_code=409)
        return JSONResponse(reindexer.status, status_code=202)

    @app.get("/api/reindex")
    def reindex_status(request: Request) -> JSONResponse:
        return staff_only(request) or JSONResponse(reindexer.status)

    @app.post("/api/feedback")
    def feedback(body: Feedback) -> JSONResponse:
        if not service.log.thumbs(body.id, body.up):
            return JSONResponse({"detail": f"No answer with id {body.id}."}, status_code=404)
        return JSONResponse({"ok": True})

    @app.get("/healthz")
    def healthz() -> dict:
        bot = service.bot  # a re-index swaps it
        state = bot.retriever.state
        return {"status": "ok", "chunks": len(bot.retriever.chunks), "corpus_version": state.built_at,
                "collection": state.collection, "backend": bot.model.name if bot.model else "grounded",
                "llm_fallbacks": dict(bot.model.fallbacks) if bot.model else {},
                "chroma": "server" if settings.chroma_host else "embedded"}

    @app.get("/widget")
    def widget() -> HTMLResponse:
        return HTMLResponse((STATIC / "widget.html").read_text(encoding="utf-8"),
                            headers={"Content-Security-Policy": frame_ancestors(allowed)})

    @app.get("/widget.js")
    def widget_js() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript")

    blocks = build_app(service, settings.corpus_dir / "geo")
    blocks.queue(max_size=64, default_concurrency_limit=8)
    return gr.mount_gradio_app(app, blocks, path="/", footer_links=[])


