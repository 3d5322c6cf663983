"""20 concurrent clients asking 5 questions each over loopback against a running `investbot serve`.

    INVESTBOT_RATE_LIMIT=1000 investbot serve --port 7860 &   # one client key (127.0.0.1) for all 20 clients
    .venv/bin/python bench/load.py [--url http://127.0.0.1:7860] [--clients 20] [--questions 5]
"""

import argparse
import asyncio
import time
from pathlib import Path

import httpx

from evals.cases import load_cases
from evals.metrics import percentile

REPO = Path(__file__).resolve().parent.parent


async def client(http: httpx.AsyncClient, url: str, questions: list[str], latencies: list[float],
                 errors: list[str]) -> None:
    for question in questions:
        started = time.perf_counter()
        try:
            reply = await http.post(f"{url}/api/ask", json={"question": question}, timeout=60)
            if reply.status_code != 200:
                errors.append(f"{reply.status_code} {reply.text[:80]}")
        except httpx.HTTPError as exc:
            errors.append(repr(exc))
        latencies.append((time.perf_counter() - started) * 1000)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    pool = [c.question for c in load_cases(REPO / "evals" / "questions.yaml")]
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    async with httpx.AsyncClient() as http:
        await asyncio.gather(*(client(http, args.url, [pool[(i * 7 + j) % len(pool)] for j in range(args.questions)],
                                      latencies, errors) for i in range(args.clients)))
    wall = time.perf_counter() - started
    print(f"{args.clients} clients x {args.questions} questions: {len(latencies)} requests in {wall:.1f} s, "
          f"{len(errors)} errors; latency p50 {percentile(latencies, 50):.0f} ms, "
          f"p95 {percentile(latencies, 95):.0f} ms")
    for error in errors[:5]:
        print("  ", error)


if __name__ == "__main__":
    asyncio.run(main())
