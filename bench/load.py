"""Concurrent clients over loopback against a running `investbot serve`: answers a second and latency, through the
API and through the Gradio chat, and what a client sending maximal histories does to everyone else's p95.

    INVESTBOT_RATE_LIMIT=100000 .venv/bin/investbot serve --port 7860 &   # all clients share one key (127.0.0.1)
    .venv/bin/python bench/load.py [--url http://127.0.0.1:7860] [--clients 50] [--questions 4] [--pairs 1]
"""

import argparse
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from statistics import median
from urllib.parse import urlsplit

from evals.cases import load_cases
from evals.metrics import percentile

REPO = Path(__file__).resolve().parent.parent
MAX_TURNS, MAX_TURN_CHARS = 20, 8_000  # ui/api.py's limits: the largest history a client may send


class Connection:
    """One client's keep-alive connection. Python's own http.client rather than httpx: the clients share the two
    cores with the server, and httpx spent 11 ms of CPU a request, a third of what the server spends answering."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.http = HTTPConnection(self.host, self.port, timeout=120)

    def post(self, path: str, body: dict) -> tuple[int, bytes]:
        self.http.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        reply = self.http.getresponse()
        return reply.status, reply.read()

    def get(self, path: str) -> bytes:
        self.http.request("GET", path)
        return self.http.getresponse().read()

    def events(self, path: str) -> Iterator[dict]:
        """A server-sent event stream's messages, on a connection of its own (left unread, it cannot be reused)."""
        stream = HTTPConnection(self.host, self.port, timeout=120)
        try:
            stream.request("GET", path)
            reply = stream.getresponse()
            while line := reply.readline():
                if line.startswith(b"data:"):
                    yield json.loads(line[5:])
        finally:
            stream.close()


def api_client(url: str, questions: list[str], latencies: list[float], errors: list[str],
               history: list[dict] | None = None) -> None:
    connection = Connection(url)
    for question in questions:
        started = time.perf_counter()
        try:
            status, body = connection.post("/api/ask", {"question": question, "history": history or []})
            if status != 200:
                errors.append(f"{status} {body[:80]!r}")
        except (OSError, HTTPException) as exc:
            errors.append(repr(exc))
            connection = Connection(url)
        latencies.append((time.perf_counter() - started) * 1000)


def chat_client(url: str, questions: list[str], latencies: list[float], errors: list[str]) -> None:
    """The chat's own two requests, as the browser sends them: join Gradio's queue with the question, then read the
    event stream until the answer is complete. Written by hand, not with gradio_client: that client spent more CPU
    per answer than the server (a heartbeat and a reader thread per client, 80 ms an answer), on the same two
    cores, so the bench measured the client."""
    connection = Connection(url)
    fn_index = next(d["id"] for d in json.loads(connection.get("/config"))["dependencies"]
                    if d.get("api_name") == "ask")
    session = uuid.uuid4().hex  # one page open in one browser: its questions share a session
    for question in questions:
        started = time.perf_counter()
        try:
            status, body = connection.post("/gradio_api/queue/join", {
                "data": [question, [], []], "fn_index": fn_index, "session_hash": session, "event_data": None,
                "trigger_id": None})
            if status != 200:
                errors.append(f"{status} {body[:80]!r}")
            elif not completed(connection.events(f"/gradio_api/queue/data?session_hash={session}")):
                errors.append(f"no answer to {question[:40]!r}")
        except (OSError, HTTPException, json.JSONDecodeError) as exc:
            errors.append(repr(exc)[:120])
            connection = Connection(url)
        latencies.append((time.perf_counter() - started) * 1000)


def completed(events: Iterator[dict]) -> bool:
    """Reads a session's events until its one event ends; True when it ended with an answer."""
    for message in events:
        if message["msg"] == "process_completed":
            return bool(message.get("success")) and bool(message.get("output", {}).get("data"))
        if message["msg"] == "close_stream":
            return False
    return False


def run(kind: str, url: str, clients: int, per_client: int, pool: list[str],
        abuser: bool = False) -> tuple[str, float]:
    """The run's summary line (and its first errors), and the p95 of the clients' answers in ms."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = threading.Event()

    def flood() -> None:  # one client that sends the largest history allowed, again and again
        turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": ("Milano Bergamo Brescia " * 400)[
            :MAX_TURN_CHARS]} for i in range(MAX_TURNS)]
        while not stop.is_set():
            api_client(url, ["and in Pavia?"], [], [], turns)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients + 1) as pool_:
        if abuser:
            pool_.submit(flood)
        target = api_client if kind == "api" else chat_client
        jobs = [pool_.submit(target, url, [pool[(i * 7 + j) % len(pool)] for j in range(per_client)], latencies,
                             errors) for i in range(clients)]
        for job in jobs:
            job.result()
        stop.set()
    wall = time.perf_counter() - started
    label = f"{kind}{' + 1 client sending maximal histories' if abuser else ''}"
    lines = [f"{label}: {clients} clients x {per_client} questions, {len(latencies)} answers in {wall:.1f} s = "
             f"{len(latencies) / wall:.1f}/s, {len(errors)} errors; p50 {percentile(latencies, 50):.0f} ms, "
             f"p95 {percentile(latencies, 95):.0f} ms"]
    lines += [f"   {e}" for e in errors[:3]]
    return "\n".join(lines), percentile(latencies, 95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--questions", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=1,
                        help="API runs without and with the client sending maximal histories, alternately; with more "
                             "than one pair, the medians of their p95 (one run's p95 varies by some 100 ms)")
    args = parser.parse_args()
    pool = [c.question for c in load_cases(REPO / "evals" / "questions.yaml")]
    p95s: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.pairs):
        for abuser in (False, True):
            line, p95 = run("api", args.url, args.clients, args.questions, pool, abuser=abuser)
            print(line)
            p95s[abuser].append(p95)
    if args.pairs > 1:
        without, with_abuser = median(p95s[False]), median(p95s[True])
        print(f"others' p95, median of {args.pairs} runs each: {without:.0f} ms without, {with_abuser:.0f} ms with the "
              f"client sending maximal histories ({with_abuser - without:+.0f} ms)")
    print(run("chat", args.url, args.clients, args.questions, pool)[0])


if __name__ == "__main__":
    main()
