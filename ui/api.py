"""The HTTP API: ask (whole or streamed), feedback, the hub map, staff re-indexing and /healthz. The routes get the
ask service as a dependency; the app that includes them (ui/server.py) puts it in its state."""

import itertools
import json
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from bot.find.hubs import hub_ref
from bot.settings import Settings
from bot.types import BadQuestion, QuestionTooLong
from ui.hubmap import hub_map_svg
from ui.labels import ui_labels
from ui.ratelimit import RateLimited
from ui.reindex import Reindexer
from ui.service import AskService, NotReady

MAP_HUBS = 30  # hubs one map shows at most (an answer shows fewer)
# What one request may carry (README, HTTP API). A turn may be a whole earlier answer, hubs table included, but only
# the last user turn's first 2,000 characters are searched with a follow-up: more would cost every client time.
MAX_TURNS = 20
MAX_TURN_CHARS = 8_000
SQLITE_MAX_INT = 2**63 - 1

router = APIRouter()


class Turn(BaseModel):
    role: str = Field(pattern="^(user|assistant)$")
    content: str = Field(max_length=MAX_TURN_CHARS)


class AskRequest(BaseModel):
    question: str  # its length is checked by the bot, which says the limit (413)
    history: list[Turn] = Field(default_factory=list, max_length=MAX_TURNS)
    lang: str | None = Field(None, pattern="^[a-z]{2}$")


class Feedback(BaseModel):
    id: int = Field(ge=1, le=SQLITE_MAX_INT)
    up: bool


def service(request: Request) -> AskService:
    return request.app.state.service


def settings(request: Request) -> Settings:
    return request.app.state.settings


def reindexer(request: Request) -> Reindexer:
    return request.app.state.reindexer


Service = Annotated[AskService, Depends(service)]


def client_key(request: Request) -> str:
    return request.client.host if request.client else "-"


def refuse(exc: Exception) -> JSONResponse:
    if isinstance(exc, RateLimited):
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": "60"})
    if isinstance(exc, NotReady):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"detail": str(exc)}, status_code=413 if isinstance(exc, QuestionTooLong) else 400)


@router.post("/api/ask")
def ask(body: AskRequest, request: Request, asks: Service) -> JSONResponse:
    try:
        answer, log_id = asks.ask(body.question, [t.model_dump() for t in body.history], body.lang,
                                  client_key(request), "api")
    except (RateLimited, BadQuestion, NotReady) as exc:
        return refuse(exc)
    return JSONResponse({**answer.to_dict(), "id": log_id})


@router.post("/api/ask/stream", response_model=None)
def ask_stream(body: AskRequest, request: Request, asks: Service) -> StreamingResponse | JSONResponse:
    """NDJSON: {"delta": text} for each piece of a language model's answer that passed the grounding check, then
    {"answer": {...}}, whose text replaces the pieces."""
    items = asks.stream(body.question, [t.model_dump() for t in body.history], body.lang, client_key(request), "api")
    try:
        first = next(items)
    except (RateLimited, BadQuestion, NotReady) as exc:
        return refuse(exc)

    def lines() -> Iterator[str]:
        for item in itertools.chain([first], items):
            if isinstance(item, str):
                yield json.dumps({"delta": item}, ensure_ascii=False) + "\n"
            else:
                answer, log_id = item
                yield json.dumps({"answer": {**answer.to_dict(), "id": log_id}}, ensure_ascii=False) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.post("/api/feedback")
def feedback(body: Feedback, request: Request, asks: Service) -> JSONResponse:
    try:
        asks.limiter.check(client_key(request))  # thumbs count against the same per-client limit as questions
    except RateLimited as exc:
        return refuse(exc)
    if not asks.log.thumbs(body.id, body.up):
        return JSONResponse({"detail": f"No answer with id {body.id}."}, status_code=404)
    return JSONResponse({"ok": True})


@router.get("/api/map.svg", response_model=None)
def hub_map(asks: Service, request: Request, hub: Annotated[list[str], Query()] = (),
            lang: str = "en") -> Response:
    """The map of these hubs (ids as in an answer's `hubs`; unknown ids are left out), as an SVG picture."""
    try:
        bot = asks.ready_bot()
    except NotReady as exc:
        return refuse(exc)
    records = bot.hub_search.records
    hubs = [hub_ref(records[h]) for h in dict.fromkeys(hub) if h in records][:MAP_HUBS]
    svg = hub_map_svg(hubs, settings(request).corpus_dir / "geo", ui_labels(lang)["hubs"])
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=600"})


def staff_only(request: Request) -> JSONResponse | None:
    """None when the request carries the admin token; otherwise the refusal to send."""
    token = settings(request).admin_token
    if token is None or not token.get_secret_value():  # an empty token would let an empty header in
        return JSONResponse({"detail": "Re-indexing over HTTP is off: set INVESTBOT_ADMIN_TOKEN."}, status_code=403)
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not secrets.compare_digest(given.encode(), token.get_secret_value().encode()):
        return JSONResponse({"detail": "Missing or wrong admin token (Authorization: Bearer …)."},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return None


@router.post("/api/reindex")
def reindex(request: Request) -> JSONResponse:
    """Staff: re-index corpus/ now (what changed only) and serve the new index when it is built."""
    if refused := staff_only(request):
        return refused
    job = reindexer(request)
    if not job.start():
        return JSONResponse({"detail": "A re-index is already running.", **job.status}, status_code=409)
    return JSONResponse(job.status, status_code=202)


@router.get("/api/reindex")
def reindex_status(request: Request) -> JSONResponse:
    return staff_only(request) or JSONResponse(reindexer(request).status)


@router.get("/healthz")
def healthz(asks: Service, request: Request) -> JSONResponse:
    """"ok" with the index served; "building" with the progress (503) on a first start; "failed" (the log says
    why)."""
    if asks.bot is None:
        return JSONResponse(asks.status, status_code=503)
    bot = asks.bot  # a re-index swaps it
    state = bot.retriever.state
    return JSONResponse({"status": "ok", "chunks": len(bot.retriever.chunks), "corpus_version": state.built_at,
                         "collection": state.collection, "backend": bot.model.name if bot.model else "grounded",
                         "llm_fallbacks": dict(bot.model.fallbacks) if bot.model else {},
                         "chroma": "server" if settings(request).chroma_host else "embedded"})
