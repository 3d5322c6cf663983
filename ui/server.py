"""One server: FastAPI with the HTTP API (ui/api.py), the widget (ui/widget.py), /healthz and the Gradio chat at /.

On a first start the bot is built in the background: the port opens at once, /healthz reports the progress and /
shows a page that turns into the chat when the bot is ready."""

import logging
import os

import gradio as gr
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
MAX_BODY_BYTES = 256 * 1024  # a question, 20 turns of history and JSON around them fit several times over
# Gradio's file upload route (the chat has no upload component, and it would keep any file from anyone) and the
# API schemas (the README documents the API; a schema of every route is a map for attackers).
CLOSED_PATHS = ("/gradio_api/upload", "/upload", "/openapi.json", "/gradio_api/openapi.json", "/docs", "/redoc")
VALIDATION_ERRORS_SHOWN = 5
TOO_LARGE = f"The request is larger than {MAX_BODY_BYTES // 1024} KB."


class Guard:
    """What every request passes first. Closed: Gradio's upload route and bodies over the size limit (a declared
    length at once; a chunked body counted as it arrives). While the bot is being built: the progress page at /,
    503 for the API. On every response: no MIME sniffing, and only this server and the allowed sites may frame a
    page.

    Plain ASGI rather than Starlette's @app.middleware("http"): that one puts each response, the chat's event
    streams included, through a task group and a memory stream, and polls for disconnects; in a chat run it cost
    more of the event loop's time than answering did."""

    def __init__(self, app: ASGIApp, service: AskService, allowed: list[str]) -> None:
        self.app = app
        self.service = service
        self.frame_ancestors = widget.frame_ancestors(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Content-Security-Policy", self.frame_ancestors)
                if path != "/widget":
                    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
            await send(message)

        refusal = self.refusal(path, Headers(scope=scope), scope["method"])
        if refusal is not None:
            await refusal(scope, receive, send_guarded)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:  # the route's exception handling turns it into a 413 response
                raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counted, send_guarded)

    def refusal(self, path: str, headers: Headers, method: str) -> Response | None:
        length = headers.get("content-length", "0")
        if path in CLOSED_PATHS:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return JSONResponse({"detail": TOO_LARGE}, status_code=413)
        if self.service.bot is None and path not in WHILE_BUILDING:
            if method == "GET" and path == "/":
                return building_page(headers.get("accept-language"))
            return JSONResponse({"detail": ui_labels("en")["building"], **self.service.status}, status_code=503,
                                headers={"Retry-After": "5"})
        return None


def create_app(settings: Settings, bot: Bot | None = None) -> FastAPI:
    """With `bot`, the app serves it at once; without, it builds it in the background (see the module's doc)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    # Gradio's queue rebuilds a pandas table of its last 10,000 events after every event, for a monitoring page
    # this app does not enable: 1 ms of CPU an answer at first, 5 ms once 10,000 questions have been asked.
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))
    service = AskService(bot, QuestionLog(settings.data_dir / "questions.sqlite3"), RateLimiter(settings.rate_limit))
    allowed = [o.rstrip("/") for o in settings.allowed_origins]
    app = FastAPI(title="investbot", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service
    app.state.settings = settings
    app.state.allowed_origins = allowed
    app.state.reindexer = Reindexer(service, settings)
    app.add_middleware(CORSMiddleware, allow_origins=allowed, allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type"])  # not Authorization: staff calls come from tools, not sites
    app.add_middleware(Guard, service=service, allowed=allowed)  # added last: the outermost
    app.include_router(api.router)
    app.include_router(widget.router)

    @app.exception_handler(Exception)
    async def fault(request: Request, exc: Exception) -> JSONResponse:
        """A fault of ours (logged with its traceback by the server): a short line, never the exception's text."""
        return JSONResponse({"detail": ui_labels("en")["failed"]}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        """What is wrong and where, never the input itself: echoing it would send megabytes back, and a NaN in
        it cannot even be written as JSON."""
        errors = [{"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))[:200]}
                  for e in exc.errors()[:VALIDATION_ERRORS_SHOWN]]
        return JSONResponse({"detail": errors}, status_code=422)

    blocks = build_app(service, settings.corpus_dir / "geo")
    blocks.queue(max_size=64, default_concurrency_limit=8)
    if bot is None:
        service.start_building(settings)
    # show_error=False: an unexpected error shows the chat's short message, never exception text
    return gr.mount_gradio_app(app, blocks, path="/", footer_links=[], css=CSS, show_error=False)


def building_page(accept_language: str | None) -> HTMLResponse:
    labels = ui_labels(interface_language(accept_language))
    page = widget.templates().get_template("building.html.j2").render(labels=labels)
    return HTMLResponse(page, status_code=503, headers={"Retry-After": "5", "Cache-Control": "no-store"})


