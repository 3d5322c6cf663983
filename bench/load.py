"""Concurrent clients over loopback against a running `investbot serve`: answers a second and latency, through the
API and through the Gradio chat, and what a client sending maximal histories does to everyone else's p95.

    INVESTBOT_RATE_LIMIT=100000 .venv/bin/investbot serve --port 7860 &   # all clients share one key (127.0.0.1)
    .venv/bin/python bench/load.py [--url http://127.0.0.1:7860] [--clients 50] [--questions 4]
"""

import argparse
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from evals.cases import load_cases
from evals.metrics import percentile

REPO = Path(__file__).resolve().parent.parent
MAX_TURNS, MAX_TURN_CHARS = 20, 8_000  # ui/api.py's limits: the largest history a client may send


def api_client(url: str, questions: list[str], latencies: list[float], errors: list[str],
               history: list[dict] | None = None) -> None:
    with httpx.Client(timeout=120) as http:
        for question in questions:
            started = time.perf_counter()
            try:
                reply = http.post(f"{url}/api/ask", json={"question": question, "history": history or []})
                if reply.status_code != 200:
                    errors.append(f"{reply.status_code} {reply.text[:80]}")
            except httpx.HTTPError as exc:
                errors.append(repr(exc))
            latencies.append((time.perf_counter() - started) * 1000)


def chat_client(url: str, questions: list[str], latencies: list[float], errors: list[str]) -> None:
    """The chat's own two requests, as the browser sends them: join Gradio's queue with the question, then read the
    event stream until the answer is complete. Written by hand, not with gradio_client: that client spent more CPU
    per answer than the server (a heartbeat and a reader thread per client, 80 ms an answer), on the same two
    cores, so the bench measured the client."""
    with httpx.Client(timeout=120) as http:
        fn_index = next(d["id"] for d in http.get(f"{url}/config").json()["dependencies"]
                        if d.get("api_name") == "ask")
        for question in questions:
            started = time.perf_counter()
            session = uuid.uuid4().hex
            try:
                joined = http.post(f"{url}/gradio_api/queue/join", json={
                    "data": [question, [], []], "fn_index": fn_index, "session_hash": session,
                    "event_data": None, "trigger_id": None})
                joined.raise_for_status()
                if not completed(http, url, session):
                    errors.append(f"no answer to {question[:40]!r}")
            except (httpx.HTTPError, json.JSONDecodeError) as exc:
                errors.append(repr(exc)[:120])
            latencies.append((time.perf_counter() - started) * 1000)


def completed(http: httpx.Client, url: str, session: str) -> bool:
    """Reads the session's event stream until its one event ends; True when it ended with an answer."""
    with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message["msg"] == "process_completed":
                return bool(message.get("success")) and bool(message.get("output", {}).get("data"))
            if message["msg"] == "close_stream":
                return False
    return False


def run(kind: str, url: str, clients: int, per_client: int, pool: list[str], abuser: bool = False) -> str:
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
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--questions", type=int, default=4)
    args = parser.parse_args()
    pool = [c.question for c in load_cases(REPO / "evals" / "questions.yaml")]
    print(run("api", args.url, args.clients, args.questions, pool))
    print(run("api", args.url, args.clients, args.questions, pool, abuser=True))
    print(run("chat", args.url, args.clients, args.questions, pool))


if __name__ == "__main__":
    main()
