"""Prints how long `investbot ask` takes from start to answer (whole process, warm machine: the index exists and the
files are in the page cache), and how long `investbot serve` takes to say ready on /healthz.

    .venv/bin/python bench/start.py [--runs 5]
"""

import argparse
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

VENV_BIN = Path(sys.executable).parent
QUESTION = "How many ITS academies are there in Lombardy?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([VENV_BIN / "investbot", "ask", QUESTION], check=True, capture_output=True)
    return time.perf_counter() - started


def serve_seconds() -> float:
    """From the command's start to /healthz answering "ok"."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([VENV_BIN / "investbot", "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json().get("status") == "ok":
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise SystemExit("investbot serve exited before it was ready")
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    ask_seconds()  # warm-up: builds the index if there is none, fills the page cache
    asks = [ask_seconds() for _ in range(runs)]
    print(f"investbot ask, start to answer: median {statistics.median(asks):.2f} s "
          f"(min {min(asks):.2f}, max {max(asks):.2f}, {runs} runs)")
    serves = [serve_seconds() for _ in range(max(1, runs // 2))]
    print(f"investbot serve, start to /healthz ok: median {statistics.median(serves):.2f} s "
          f"(min {min(serves):.2f}, max {max(serves):.2f})")


if __name__ == "__main__":
    main()
