"""The real server on loopback ports, driven by httpx, gradio_client and a real browser (Debian chromium)."""

import re
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
from bot.languages import language
from bot.settings import Settings
from tests.conftest import NEW_PAGE_QUESTION, add_new_page
from tests.loopback import CHROMIUM, Served, chromium, free_port, wait_ready
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
    assert f"frame-ancestors 'self' {ALLOWED}" in csp and "script-src 'nonce-" in csp
    assert REFUSED not in csp
    chat = httpx.get(f"{server.url}/").headers  # the chat too: no other site can frame it around the allowed list
    assert chat["content-security-policy"] == f"frame-ancestors 'self' {ALLOWED}"
    assert chat["x-frame-options"] == "SAMEORIGIN" and chat["x-content-type-options"] == "nosniff"


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


def test_chat_gives_a_cited_answer_through_gradio_client(server: Served) -> None:
    from gradio_client import Client

    client = Client(f"{server.url}/", verbose=False)
    _box, chat, *_map_and_table = client.predict("Which universities are behind the MADE competence center?", [], [],
                                                 api_name="/ask")  # gr.State outputs are not sent to API clients
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
def test_widget_embedded_on_an_allowed_site_renders_the_answer_with_hub_cards_and_map(server: Served,
                                                                                        tmp_path: Path) -> None:
    html = (f'<!doctype html><html><body><h1>Agency site</h1><script src="{server.url}/widget.js" '
            'data-title="Ask investbot" data-lang="de"></script></body></html>')
    with agency_site(html, EMBEDDER_PORT) as page:
        page.locator("#investbot-bubble").wait_for()  # added once the server has said this site may embed it
        assert page.locator("#investbot-bubble svg").count() == 1  # an inline icon, no emoji font needed
        page.click("#investbot-bubble")
        frame = page.frame_locator("#investbot-frame")
        assert frame.locator("#send").inner_text() == "Fragen"  # data-lang="de"
        frame.locator("#q").fill("Welche Innovationszentren gibt es in der Provinz Bergamo?")
        frame.locator("#send").click()
        frame.locator(".msg.bot[data-done]").wait_for(timeout=30_000)
        answer = frame.locator(".msg.bot").last
        text = answer.inner_text()
        assert "**" not in text and "|---" not in text and "](" not in text  # rendered, not raw Markdown
        cards = answer.locator(".hub-card")
        assert cards.count() >= 1 and "(BG)" in cards.first.inner_text()
        assert answer.locator(".answer table").is_hidden()  # the hubs are shown once: as cards
        source = answer.locator(".sources a").first
        assert source.get_attribute("href").startswith("http")
        map_image = answer.locator("img.map")
        map_image.scroll_into_view_if_needed()
        page.wait_for_function("() => true")
        assert map_image.evaluate("img => img.complete && img.naturalWidth > 0")
        page.screenshot(path=str(tmp_path / "widget.png"))


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_widget_adds_nothing_on_a_site_that_is_not_allowed(server: Served) -> None:
    html = f'<!doctype html><html><body><script src="{server.url}/widget.js"></script></body></html>'
    with agency_site(html, free_port()) as page:
        page.wait_for_timeout(1500)
        assert page.locator("#investbot-bubble").count() == 0 and page.locator("iframe").count() == 0
        status = page.evaluate(f"""fetch("{server.url}/api/ask", {{method: "POST",
            headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{question: "What is MADE?"}})}})
            .then(r => "read").catch(e => "blocked")""")
        assert status == "blocked"  # CORS: the page cannot read the API


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_a_script_in_a_question_never_runs_in_the_widget(server: Served) -> None:
    payload = ('<img src=x onerror="window.top.pwned=1"><script>window.top.pwned=2</script> '
               '[x](javascript:window.top.pwned=3) what is MADE?')
    html = f'<!doctype html><html><body><script src="{server.url}/widget.js"></script></body></html>'
    with agency_site(html, EMBEDDER_PORT) as page:
        page.click("#investbot-bubble")
        frame = page.frame_locator("#investbot-frame")
        frame.locator("#q").fill(payload)
        frame.locator("#send").click()
        frame.locator(".msg.bot[data-done]").wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        assert frame.locator(".msg.user").last.inner_text() == payload  # shown as text
        widget = page.frame(url=lambda url: "/widget" in url)
        assert widget.evaluate("() => window.pwned === undefined") and page.evaluate("() => window.pwned") is None
        assert widget.locator("a[href^='javascript']").count() == 0


def test_the_map_is_an_svg_of_the_hubs_asked_for(server: Served) -> None:
    reply = httpx.get(f"{server.url}/api/map.svg", params=[("hub", "hub:polihub"), ("hub", "hub:kilometro-rosso"),
                                                            ("hub", "hub:<script>")])
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("image/svg+xml")
    assert reply.text.count("<circle") == 2 and "<script" not in reply.text


def test_staff_reindex_over_http_serves_a_new_file(tiny_corpus: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=tiny_corpus, admin_token="s3cret", rate_limit=1000)
    with Served(create_app(settings), free_port()) as served:
        wait_ready(served.url)
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


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_first_start_shows_progress_then_the_chat_and_corpus_html_never_runs(tiny_corpus: Path,
                                                                             tmp_path: Path) -> None:
    """A server started without an index opens at once: /healthz says "building", / shows the progress page and
    the API answers 503; then it serves. A corpus file carrying script is quoted as text in the widget."""
    (tiny_corpus / "page" / "hostile.md").write_text(
        "---\nid: page:hostile\ntitle: Test page\nurl: https://example.org/hostile\nlanguage: en\n---\n"
        "The Zorblax Foundry in Cremona trains glass-blowing engineers <img src=x onerror=\"window.top.pwned=1\"> "
        "for the optics industry <script>window.top.pwned=2</script>.\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=tiny_corpus, rate_limit=1000,
                        allowed_origins=[ALLOWED])
    with Served(create_app(settings), free_port()) as served:
        first = httpx.get(f"{served.url}/", headers={"Accept-Language": "it-IT,it;q=0.9"})
        early = httpx.post(f"{served.url}/api/ask", json={"question": "What is MADE?"})
        seen = wait_ready(served.url)
        assert seen[0] == "building" and seen[-1] == "ok"
        assert first.status_code == 503 and "investbot si sta preparando" in first.text
        assert early.status_code == 503
        html = f'<!doctype html><html><body><script src="{served.url}/widget.js"></script></body></html>'
        with agency_site(html, EMBEDDER_PORT) as page:
            page.click("#investbot-bubble")
            frame = page.frame_locator("#investbot-frame")
            frame.locator("#q").fill("Where are glass-blowing engineers for the optics industry trained?")
            frame.locator("#send").click()
            frame.locator(".msg.bot[data-done]").wait_for(timeout=30_000)
            page.wait_for_timeout(500)
            assert "Zorblax" in frame.locator(".msg.bot").last.inner_text()
            widget = page.frame(url=lambda url: "/widget" in url)
            assert widget.evaluate("() => window.pwned === undefined") and page.evaluate("() => window.pwned") is None
            assert widget.locator(".msg.bot img, .msg.bot script").count() == 0


@contextmanager
def chat_page(url: str, width: int, locale: str) -> Iterator["playwright.sync_api.Page"]:
    """The chat page in chromium, at this width and with this browser language, ready for a question."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = chromium(p)
        page = browser.new_page(viewport={"width": width, "height": 844}, locale=locale)
        page.goto(f"{url}/")
        page.locator("#question textarea").wait_for(timeout=30_000)
        yield page
        browser.close()


def ask_in_chat(page: "playwright.sync_api.Page", question: str) -> None:
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.locator("#chat details").last.wait_for(timeout=30_000)  # the sources: the final answer is in
    page.wait_for_timeout(800)  # the scroll that follows the answer


def test_a_failed_first_build_is_reported_without_its_internals(settings: Settings, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """/healthz and the API say the build failed; the exception's text (a path, a class) stays in the log."""
    def broken(*args: object, **kwargs: object) -> Bot:
        raise RuntimeError("chroma.sqlite3 at /srv/secret/data is malformed")

    monkeypatch.setattr(Bot, "from_settings", broken)
    with Served(create_app(settings.model_copy(update={"data_dir": tmp_path})), free_port()) as served:
        deadline = time.time() + 30
        while (health := httpx.get(f"{served.url}/healthz")).json()["status"] == "building" and time.time() < deadline:
            time.sleep(0.05)
        asked = httpx.post(f"{served.url}/api/ask", json={"question": "What is MADE?"})
    assert health.status_code == 503 and health.json()["status"] == "failed"
    assert asked.status_code == 503
    for reply in (health, asked):
        assert "secret" not in reply.text and "RuntimeError" not in reply.text, reply.text


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_chat_page_speaks_the_browsers_language_and_switches(server: Served) -> None:
    with chat_page(server.url, 1280, "de-DE") as page:
        page.wait_for_function("() => document.querySelector('#title').innerText.includes('Lombardei')")
        assert page.get_attribute("#question textarea", "placeholder").startswith("Fragen Sie")
        page.click("#ui-lang input")
        page.get_by_role("option", name="Français").click()
        page.wait_for_function("() => document.querySelector('#title').innerText.includes('Lombardie')")
        assert "Invest in Lombardy" in page.inner_text("#contact") and "Contacter" in page.inner_text("#contact")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_chat_keeps_the_answers_start_in_view_and_shows_hubs_once_beside_the_map(server: Served,
                                                                                  tmp_path: Path) -> None:
    with chat_page(server.url, 1280, "en-GB") as page:
        ask_in_chat(page, "I make medical devices: where in Lombardy should I set up R&D, and who can help me?")
        answer = page.locator("#chat .message-row.bot-row").last
        top = answer.evaluate("a => a.getBoundingClientRect().top")
        chat_box = page.locator("#chat").evaluate("c => [c.getBoundingClientRect().top, c.getBoundingClientRect()"
                                                  ".bottom]")
        assert chat_box[0] <= top <= chat_box[1] - 40, (top, chat_box)  # the first line is on screen
        assert page.locator("#hub-cards .hub-card").first.is_visible()
        assert page.locator("#hub-cards svg circle").count() >= 1
        assert answer.locator(".chat-hubs").is_hidden() and answer.locator("table").count() == 0
        page.screenshot(path=str(tmp_path / "desktop.png"))


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_chat_on_a_phone_has_no_horizontal_scroll_and_hub_cards_under_the_answer(server: Served,
                                                                                   tmp_path: Path) -> None:
    with chat_page(server.url, 390, "zh-CN") as page:
        page.wait_for_function("() => document.querySelector('#title').innerText.includes('伦巴第')")
        ask_in_chat(page, "贝加莫省有哪些创新中心？")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        answer = page.locator("#chat .message-row.bot-row").last
        assert answer.locator(".chat-hubs .hub-card").first.is_visible()
        assert page.locator("#hub-cards svg").evaluate("s => s.getBoundingClientRect().width") <= 390
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)


def test_a_dot_on_the_map_carries_the_number_of_its_hub_in_the_list(server: Served) -> None:
    """Hubs of one town share a point and are spread around it; the numbers must still follow the list's order."""
    ids = ["hub:polihub", "hub:parco-tecnologico-padano", "hub:bio4dreams", "hub:polo-tecnologico-pavia"]
    svg = httpx.get(f"{server.url}/api/map.svg", params=[("hub", h) for h in ids]).text
    titles = re.findall(r"<title>(\d+)\. [^<]*\((\w\w)\)</title>", svg)
    assert [int(n) for n, _ in titles] == [1, 2, 3, 4]
    assert [province for _, province in titles] == ["MI", "LO", "MI", "PV"]


class BrokenBot:
    """The real bot, except that answering fails inside it as an unforeseen fault would."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    def __getattr__(self, name: str) -> object:
        return getattr(self._bot, name)

    def stream(self, *args: object, **kwargs: object) -> Iterator:
        raise RuntimeError("index corrupted at <Chroma object at 0x7f3a> secret-detail")


def test_a_fault_while_answering_shows_the_investor_one_short_line_not_internals(bot: Bot, settings: Settings,
                                                                                tmp_path) -> None:
    from gradio_client import Client

    config = settings.model_copy(update={"data_dir": tmp_path, "rate_limit": 1000})
    with Served(create_app(config, BrokenBot(bot)), free_port()) as served:
        client = Client(f"{served.url}/", verbose=False)
        _, chat, *_ = client.predict("Welche Cluster gibt es in der Lombardei?", [], [], api_name="/ask")
        reply = httpx.post(f"{served.url}/api/ask", json={"question": "What is MADE?"}, timeout=30)
    text = str(chat[-1]["content"])
    assert text == language("de")["ui"]["failed"] or language("de")["ui"]["failed"] in text, text
    assert reply.status_code == 500 and reply.json()["detail"] == language("en")["ui"]["failed"]
    assert "secret-detail" not in reply.text and "0x7f" not in reply.text
