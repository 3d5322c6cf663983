"""One server: FastAPI with the HTTP API (ui/api.py), the widget (ui/widget.py), /healthz and the Gradio chat at /.

On a first start the bot is built in the background: the port opens at once, /healthz reports the progress and /
shows a page that turns into the chat when the bot is ready."""

import logging
import os

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot.answer import Bot
from bot.settings import Settings
from ui import api, widget
from ui.app import CSS, build_app
from ui.labels import interface_language, ui_labels
from ui.questionlog import QuestionLog
from ui.ratelimit import RateLimiter
from ui.reindex import Reindexer
from ui.service import AskService

log = logging.getLogger(__name__)
# Paths that answer while the bot is being built: the progress, and the widget's files (they wait for the API).
WHILE_BUILDING = ("/healthz", "/widget", "/widget.js", "/api/widget/config")


def create_app(settings: Settings, bot: Bot | None = None) -> FastAPI:
    """With `bot`, the app serves it at once; without, it builds it in the background (see the module's doc)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    service = AskService(bot, QuestionLog(settings.data_dir / "questions.sqlite3"), RateLimiter(settings.rate_limit))
    allowed = [o.rstrip("/") for o in settings.allowed_origins]
    app = FastAPI(title="investbot", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service
    app.state.settings = settings
    app.state.allowed_origins = allowed
    app.state.reindexer = Reindexer(service, settings)
    app.add_middleware(CORSMiddleware, allow_origins=allowed, allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type"])  # not Authorization: staff calls come from tools, not sites
    app.include_router(api.router)
    app.include_router(widget.router)

    @app.middleware("http")
    async def guard(request: Request, call_next) -> Response:  # noqa: ANN001 - Starlette's callable type
        """While the bot is being built: the progress page at /, 503 for the API. On every response: no MIME
        sniffing, and only this server and the allowed sites may frame a page."""
        if service.bot is None and request.url.path not in WHILE_BUILDING:
            if request.method == "GET" and request.url.path == "/":
                response = building_page(request.headers.get("accept-language"))
            else:
                response = JSONResponse({"detail": ui_labels("en")["building"], **service.status}, status_code=503,
                                        headers={"Retry-After": "5"})
        else:
            response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Security-Policy", widget.frame_ancestors(allowed))
        if request.url.path != "/widget":
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response

    blocks = build_app(service, settings.corpus_dir / "geo")
    blocks.queue(max_size=64, default_concurrency_limit=8)
    if bot is None:
        service.start_building(settings)
    return gr.mount_gradio_app(app, blocks, path="/", footer_links=[], css=CSS)


def building_page(accept_language: str | None) -> HTMLResponse:
    labels = ui_labels(interface_language(accept_language))
    page = widget.templates().get_template("building.html.j2").render(labels=labels)
    return HTMLResponse(page, status_code=503, headers={"Retry-After": "5", "Cache-Control": "no-store"})


