"""The real server on loopback ports, driven by httpx, gradio_client and a real browser (Debian chromium)."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    import playwright.sync_api

from bot.answer import Bot
from bot.settings import Settings
from tests.conftest import NEW_PAGE_QUESTION, add_new_page
from tests.loopback import CHROMIUM, Served, chromium, free_port
from ui.server import create_app

EMBEDDER_PORT = free_port()  # the port of the test page that is allowed to embed the widget
ALLOWED = f"http://127.0.0.1:{EMBEDDER_PORT}"
REFUSED = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def server(bot: Bot, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    config = settings.model_copy(update={"allowed_origins": [ALLOWED], "rate_limit": 1000,
                                         "data_dir": tmp_path_factory.mktemp("serve")})
    with Served(create_app(config, bot), free_port()) as served:
        yield served


def test_api_ask_returns_the_answer_object_with_history(server: Served) -> None:
    body = {"question": "and in Bergamo?",
            "history": [{"role": "user", "content": "Which research centres are there in Pavia?"},
                        {"role": "assistant", "content": "CNAO and EUCENTRE."}]}
    reply = httpx.post(f"{server.url}/api/ask", json=body, timeout=30)
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["refused"] is False and answer["citations"] and answer["hubs"]
    assert any(h["province"] == "BG" for h in answer["hubs"])


def test_healthz_reports_the_index(server: Served) -> None:
    health = httpx.get(f"{server.url}/healthz").json()
    assert health["status"] == "ok" and health["chunks"] > 100 and health["backend"] == "grounded"


def test_cors_allows_the_listed_origin_and_not_others(server: Served) -> None:
    body = {"question": "What is MADE?"}
    allowed = httpx.post(f"{server.url}/api/ask", json=body, headers={"Origin": ALLOWED}, timeout=30)
    assert allowed.headers.get("access-control-allow-origin") == ALLOWED
    refused = httpx.post(f"{server.url}/api/ask", json=body, headers={"Origin": REFUSED}, timeout=30)
    assert "access-control-allow-origin" not in refused.headers
    preflight = httpx.options(f"{server.url}/api/ask", headers={
        "Origin": REFUSED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 400


def test_widget_may_be_framed_only_by_allowed_sites(server: Served) -> None:
    csp = httpx.get(f"{server.url}/widget").headers["content-security-policy"]
    assert csp == f"frame-ancestors 'self' {ALLOWED}"
    assert REFUSED not in csp


def test_overlong_and_empty_questions_get_a_clear_4xx(server: Served) -> None:
    long = httpx.post(f"{server.url}/api/ask", json={"question": "x" * 2500})
    assert long.status_code == 413 and "limit is 2000" in long.json()["detail"]
    empty = httpx.post(f"{server.url}/api/ask", json={"question": "  "})
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]


def test_rate_limit_answers_429_with_a_message(bot: Bot, settings: Settings, tmp_path: Path) -> None:
    config = settings.model_copy(update={"rate_limit": 2, "data_dir": tmp_path})
    with Served(create_app(config, bot), free_port()) as served:
        codes = [httpx.post(f"{served.url}/api/ask", json={"question": "What is MADE?"}, timeout=30)
                 for _ in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert "limit is 2 a minute" in codes[2].json()["detail"]


def test_feedback_is_logged_without_ip_addresses(server: Served, settings: Settings) -> None:
    answer = httpx.post(f"{server.url}/api/ask", json={"question": "What is Kilometro Rosso?"}, timeout=30).json()
    assert httpx.post(f"{server.url}/api/feedback", json={"id": answer["id"], "up": True}).json() == {"ok": True}
    assert httpx.post(f"{server.url}/api/feedback", json={"id": 10**9, "up": True}).status_code == 404
    columns, rows = server.server.config.app.state.service.log.rows()
    assert "ip" not in " ".join(columns).lower() and "client" not in " ".join(columns).lower()
    row = dict(zip(columns, rows[-1], strict=True))
    assert row["question"] == "What is Kilometro Rosso?" and row["thumbs"] == 1


def test_chat_streams_a_cited_answer_through_gradio_client(server: Served) -> None:
    from gradio_client import Client

    client = Client(f"{server.url}/", verbose=False)
    job = client.submit("Which universities are behind the MADE competence center?", [], [], api_name="/ask")
    updates = list(job)
    _box, chat, *_map_and_table = job.result()  # gr.State outputs are not sent to API clients
    assert len(updates) > 2  # streamed in several steps
    final = chat[-1]["content"]
    text = final[0]["text"] if isinstance(final, list) else str(final)
    assert "Pavia" in text and "[1]" in text and "<details>" in text


def test_chat_keeps_the_conversation_for_a_follow_up(server: Served) -> None:
    """The chat's history reaches the bot (Gradio 6 sends each message as a list of parts): "what is their
    website?" after a question about the aerospace cluster is answered with that cluster's website."""
    from gradio_client import Client

    client = Client(f"{server.url}/", verbose=False)
    _, history, *_ = client.predict("Which cluster represents the aerospace industry?", [], [], api_name="/ask")
    assert history and history[-1]["role"] == "assistant"
    _, chat, *_ = client.predict("What is their website?", history, [], api_name="/ask")
    final = chat[-1]["content"]
    text = final[0]["text"] if isinstance(final, list) else str(final)
    assert "aerospacelombardia.it" in text.split("<details>")[0], text


class Site(SimpleHTTPRequestHandler):
    html = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = self.html.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def agency_site(html: str, port: int) -> Iterator["playwright.sync_api.Page"]:
    """A page of a site that embeds the widget, served on loopback, open in chromium."""
    from playwright.sync_api import sync_playwright

    Site.html = html
    site = ThreadingHTTPServer(("127.0.0.1", port), Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = chromium(p)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            yield page
            browser.close()
    finally:
        site.shutdown()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_widget_embedded_on_an_allowed_site_answers_with_citations(server: Served, tmp_path: Path) -> None:
    html = (f'<!doctype html><html><body><h1>Agency site</h1><script src="{server.url}/widget.js" '
            'data-title="Ask investbot" data-lang="en"></script></body></html>')
    with agency_site(html, EMBEDDER_PORT) as page:
        page.click("#investbot-bubble")
        frame = page.frame_locator("#investbot-frame")
        frame.locator("#q").fill("Which universities are behind the MADE competence center?")
        frame.locator("#send").click()
        frame.locator(".msg.bot .sources a").first.wait_for(timeout=30_000)
        text = frame.locator(".msg.bot").last.inner_text()
        assert "Pavia" in text and "[1]" in text
        page.screenshot(path=str(tmp_path / "widget.png"))


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_widget_is_not_shown_on_a_site_that_is_not_allowed(server: Served) -> None:
    html = f'<!doctype html><html><body><script src="{server.url}/widget.js"></script></body></html>'
    with agency_site(html, free_port()) as page:
        page.click("#investbot-bubble")
        page.wait_for_timeout(1500)
        frame = page.frame(url=lambda url: "/widget" in url)
        # frame-ancestors blocks the document: the frame holds no widget form.
        assert frame is None or frame.query_selector("#q") is None
        status = page.evaluate(f"""fetch("{server.url}/api/ask", {{method: "POST",
            headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{question: "What is MADE?"}})}})
            .then(r => "read").catch(e => "blocked")""")
        assert status == "blocked"  # CORS: the page cannot read the API


def test_staff_reindex_over_http_serves_a_new_file(tiny_corpus: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=tiny_corpus, admin_token="s3cret", rate_limit=1000)
    with Served(create_app(settings), free_port()) as served:
        api = f"{served.url}/api/reindex"
        assert httpx.post(api).status_code == 401
        assert httpx.post(api, headers={"Authorization": "Bearer wrong"}).status_code == 401
        add_new_page(tiny_corpus)
        staff = {"Authorization": "Bearer s3cret"}
        started = httpx.post(api, headers=staff)
        assert started.status_code == 202 and started.json()["state"] == "running"
        deadline = time.monotonic() + 120
        while (status := httpx.get(api, headers=staff).json())["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert status["state"] == "done" and "added 1" in status["summary"]
        answer = httpx.post(f"{served.url}/api/ask", json={"question": NEW_PAGE_QUESTION}).json()
        assert any(c["source_id"].startswith("page:extra") for c in answer["citations"])


def test_reindex_over_http_is_off_without_a_token(server: Served) -> None:
    response = httpx.post(f"{server.url}/api/reindex")
    assert response.status_code == 403 and "INVESTBOT_ADMIN_TOKEN" in response.json()["detail"]
