"""Bad input against a real server on loopback: every request gets a clear 4xx with a short message, never a 500,
and no reply echoes what was sent."""

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from bot.answer import Bot
from bot.settings import Settings
from tests.loopback import Served, free_port
from ui.server import create_app

LONE_SURROGATE = '"\\ud800"'  # valid JSON, not valid text
Q = '"What is MADE?"'

# (name, method, path, raw JSON body or None, extra headers, expected status)
CASES = [
    ("empty question", "POST", "/api/ask", '{"question": ""}', {}, 400),
    ("blank question", "POST", "/api/ask", '{"question": "   \\n\\t "}', {}, 400),
    ("question too long", "POST", "/api/ask", json.dumps({"question": "x" * 2001}), {}, 413),
    ("question missing", "POST", "/api/ask", "{}", {}, 422),
    ("question null", "POST", "/api/ask", '{"question": null}', {}, 422),
    ("question a number", "POST", "/api/ask", '{"question": 42}', {}, 422),
    ("question a list", "POST", "/api/ask", '{"question": ["a"]}', {}, 422),
    ("question NaN", "POST", "/api/ask", '{"question": NaN}', {}, 422),
    ("question Infinity", "POST", "/api/ask", '{"question": Infinity}', {}, 422),
    ("question 1e400", "POST", "/api/ask", '{"question": 1e400}', {}, 422),
    ("question lone surrogate", "POST", "/api/ask", f'{{"question": {LONE_SURROGATE}}}', {}, 400),
    ("history lone surrogate", "POST", "/api/ask",
     f'{{"question": {Q}, "history": [{{"role": "user", "content": {LONE_SURROGATE}}}]}}', {}, 422),
    ("lang lone surrogate", "POST", "/api/ask", f'{{"question": {Q}, "lang": {LONE_SURROGATE}}}', {}, 422),
    ("lang not a code", "POST", "/api/ask", f'{{"question": {Q}, "lang": "english"}}', {}, 422),
    ("lang NaN", "POST", "/api/ask", f'{{"question": {Q}, "lang": NaN}}', {}, 422),
    ("history not a list", "POST", "/api/ask", f'{{"question": {Q}, "history": "hi"}}', {}, 422),
    ("history wrong role", "POST", "/api/ask",
     f'{{"question": {Q}, "history": [{{"role": "system", "content": "x"}}]}}', {}, 422),
    ("history turn too long", "POST", "/api/ask",
     json.dumps({"question": "What is MADE?", "history": [{"role": "user", "content": "x" * 8001}]}), {}, 422),
    ("history too many turns", "POST", "/api/ask",
     json.dumps({"question": "What is MADE?", "history": [{"role": "user", "content": "x"}] * 21}), {}, 422),
    ("history turn NaN", "POST", "/api/ask", f'{{"question": {Q}, "history": [NaN]}}', {}, 422),
    ("history content Infinity", "POST", "/api/ask",
     f'{{"question": {Q}, "history": [{{"role": "user", "content": -Infinity}}]}}', {}, 422),
    ("body not JSON", "POST", "/api/ask", "question=hi", {}, 422),
    ("body truncated JSON", "POST", "/api/ask", '{"question": "hi', {}, 422),
    ("body a JSON list", "POST", "/api/ask", "[1, 2]", {}, 422),
    ("body empty", "POST", "/api/ask", "", {}, 422),
    ("body over the size limit", "POST", "/api/ask", json.dumps({"question": "x" * 300_000}), {}, 413),
    ("stream: empty question", "POST", "/api/ask/stream", '{"question": ""}', {}, 400),
    ("stream: lone surrogate", "POST", "/api/ask/stream", f'{{"question": {LONE_SURROGATE}}}', {}, 400),
    ("stream: NaN", "POST", "/api/ask/stream", '{"question": NaN}', {}, 422),
    ("stream: too long", "POST", "/api/ask/stream", json.dumps({"question": "y" * 2500}), {}, 413),
    ("feedback id beyond 64 bits", "POST", "/api/feedback", '{"id": 99999999999999999999999, "up": true}', {}, 422),
    ("feedback id negative", "POST", "/api/feedback", '{"id": -1, "up": true}', {}, 422),
    ("feedback id NaN", "POST", "/api/feedback", '{"id": NaN, "up": true}', {}, 422),
    ("feedback id 1e400", "POST", "/api/feedback", '{"id": 1e400, "up": true}', {}, 422),
    ("feedback up not a bool", "POST", "/api/feedback", '{"id": 1, "up": "maybe"}', {}, 422),
    ("feedback unknown id", "POST", "/api/feedback", '{"id": 123456789, "up": true}', {}, 404),
    ("feedback missing fields", "POST", "/api/feedback", "{}", {}, 422),
    ("map with unknown hubs", "GET", "/api/map.svg?hub=%3Cscript%3E&hub=hub:nope", None, {}, 200),
    ("map with a surrogate-like id", "GET", "/api/map.svg?hub=%ED%A0%80", None, {}, 200),
    ("widget in an unknown language", "GET", "/widget?lang=xx&title=%3Cscript%3E", None, {}, 200),
    ("widget config from a site not allowed", "GET", "/api/widget/config", None,
     {"Origin": "http://evil.example"}, 403),
    ("reindex without a token configured", "POST", "/api/reindex", None, {}, 403),
    ("reindex status without a token configured", "GET", "/api/reindex", None, {}, 403),
    ("reindex with an empty bearer", "POST", "/api/reindex", None, {"Authorization": "Bearer"}, 403),
    ("gradio upload", "POST", "/gradio_api/upload", None, {"Content-Type": "multipart/form-data; boundary=x"}, 404),
    ("openapi schema", "GET", "/openapi.json", None, {}, 404),
    ("gradio's openapi schema", "GET", "/gradio_api/openapi.json", None, {}, 404),
    ("unknown API path", "GET", "/api/nothing", None, {}, 404),
    ("wrong method", "GET", "/api/ask", None, {}, 404),
]


@pytest.fixture(scope="module")
def served(bot: Bot, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    config = settings.model_copy(update={"rate_limit": 10_000, "data_dir": tmp_path_factory.mktemp("bad")})
    with Served(create_app(config, bot), free_port()) as server:
        yield server


@pytest.mark.parametrize(("name", "method", "path", "body", "headers", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_answer_never_a_500(served: Served, name: str, method: str, path: str,
                                                     body: str | None, headers: dict, expected: int) -> None:
    sent = {"Content-Type": "application/json", **headers} if body is not None else headers
    reply = httpx.request(method, f"{served.url}{path}", content=body.encode() if body is not None else None,
                          headers=sent, timeout=30)
    assert reply.status_code == expected, reply.text[:300]
    if reply.headers.get("content-type", "").startswith("application/json") and reply.status_code >= 400:
        detail = reply.json()["detail"]
        assert detail and len(reply.content) < 2_000  # a short message, not the input sent back
    assert "Traceback" not in reply.text and "0x7f" not in reply.text


def test_an_empty_admin_token_turns_reindexing_off(bot: Bot, settings: Settings, tmp_path) -> None:
    config = Settings(data_dir=tmp_path, corpus_dir=settings.corpus_dir, admin_token="")  # INVESTBOT_ADMIN_TOKEN=""
    with Served(create_app(config, bot), free_port()) as server:
        for auth in ({}, {"Authorization": "Bearer"}, {"Authorization": ""}):
            assert httpx.post(f"{server.url}/api/reindex", headers=auth).status_code == 403


def test_feedback_is_rate_limited(bot: Bot, settings: Settings, tmp_path) -> None:
    config = settings.model_copy(update={"data_dir": tmp_path, "rate_limit": 3})
    with Served(create_app(config, bot), free_port()) as server:
        codes = [httpx.post(f"{server.url}/api/feedback", json={"id": 1, "up": True}).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


@pytest.mark.parametrize("path", ["/api/ask", "/api/feedback", "/gradio_api/queue/join"])
def test_a_chunked_body_without_a_length_is_refused_past_the_limit(served: Served, path: str) -> None:
    """Sent in chunks with no Content-Length, a body is counted as it arrives: 413, not megabytes read."""
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(64):
            yield b"x" * 16_384  # 1 MB in all
        yield b'"}'
    reply = httpx.post(f"{served.url}{path}", content=chunks(), headers={"Content-Type": "application/json"},
                       timeout=30)
    assert reply.status_code == 413, reply.text[:300]
    assert len(reply.content) < 2_000


def test_a_small_chunked_body_is_still_answered(served: Served) -> None:
    reply = httpx.post(f"{served.url}/api/ask", content=iter([b'{"question": ', Q.encode(), b"}"]),
                       headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 200 and "MADE" in reply.json()["answer"]


def test_a_client_that_sends_its_request_slowly_is_cut_off_and_others_are_served(bot: Bot, settings: Settings,
                                                                               tmp_path) -> None:
    """Slowloris: headers or a body that never finish arriving. The connection is closed after the time limit;
    meanwhile, and after, other clients are answered."""
    config = settings.model_copy(update={"data_dir": tmp_path, "rate_limit": 10_000})
    port = free_port()
    with Served(create_app(config, bot), port, request_timeout=1.5) as server:
        slow_headers = socket.create_connection(("127.0.0.1", port))
        slow_headers.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never the blank line that ends them
        slow_body = socket.create_connection(("127.0.0.1", port))
        slow_body.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 100\r\n\r\n{\"question\":")
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
        for conn in (slow_headers, slow_body):
            conn.settimeout(5)
            started = time.monotonic()
            while conn.recv(1024):  # until the server closes it (socket.timeout if it never does)
                pass
            assert time.monotonic() - started < 4.5
            conn.close()
        with httpx.Client(timeout=10) as client:  # a normal keep-alive client: two requests on one connection
            assert client.get(f"{server.url}/healthz").status_code == 200
            time.sleep(2)  # longer than the limit, but idle between requests: the keep-alive timeout applies
            assert client.post(f"{server.url}/api/ask", json={"question": "What is MADE?"}).status_code == 200
