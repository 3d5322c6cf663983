"""The embeddable widget: /widget.js (the bubble a site adds with one script tag), /widget (the chat page it opens
in a frame) and the check that the embedding site is one of the allowed origins."""

import secrets
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.languages import codes
from ui.labels import interface_language, ui_labels

HERE = Path(__file__).parent
router = APIRouter()


@lru_cache(maxsize=1)
def templates() -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"]))


def allowed_origins(request: Request) -> list[str]:
    return request.app.state.allowed_origins


def frame_ancestors(allowed: list[str]) -> str:
    return "frame-ancestors " + " ".join(["'self'", *allowed])


@router.get("/widget")
def widget(request: Request, lang: str | None = None, title: str | None = None) -> HTMLResponse:
    """The widget's chat. Its one script carries a fresh nonce, so no other script can run in it, whatever an
    answer or a corpus file contains."""
    labels = ui_labels(lang if lang in codes() else interface_language(request.headers.get("accept-language")))
    nonce = secrets.token_urlsafe(16)
    page = templates().get_template("widget.html.j2").render(labels=labels, title=(title or labels["title"])[:80],
                                                            nonce=nonce)
    policy = (f"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
              f"script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'; "
              f"{frame_ancestors(allowed_origins(request))}")
    return HTMLResponse(page, headers={"Content-Security-Policy": policy})


@router.get("/widget.js")
def widget_js() -> FileResponse:
    return FileResponse(HERE / "static" / "widget.js", media_type="text/javascript")


@router.get("/api/widget/config")
def widget_config(request: Request, lang: str = "en") -> JSONResponse:
    """What widget.js needs to add its bubble, for an allowed site only: a site that is not allowed gets 403 (and
    no CORS header), and widget.js then adds nothing to the page."""
    origin = (request.headers.get("origin") or "").rstrip("/")
    own = str(request.base_url).rstrip("/")
    if origin and origin != own and origin not in allowed_origins(request):
        return JSONResponse({"detail": "This site may not embed the widget."}, status_code=403)
    labels = ui_labels(lang)
    return JSONResponse({"lang": labels["lang"], "open": labels["open"]})
