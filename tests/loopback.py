"""Servers the tests start on loopback ports, in a thread of the test process, and the browser that visits them."""

import shutil
import socket
import threading
import time

import uvicorn

from ui.timeouts import uvicorn_options


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, app, port: int, request_timeout: float = 10.0) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                                    **uvicorn_options(request_timeout)))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Served":
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def wait_ready(url: str, timeout: float = 120) -> list[str]:
    """Poll /healthz until the bot is ready (a server started without a bot builds it first); the statuses seen."""
    import httpx

    seen = []
    deadline = time.time() + timeout
    while (status := httpx.get(f"{url}/healthz", timeout=10).json()["status"]) != "ok":
        if status == "failed" or time.time() > deadline:
            raise RuntimeError(f"the server did not get ready: {status}")
        seen.append(status)
        time.sleep(0.1)
    return [*seen, status]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(playwright):  # noqa: ANN001, ANN201 - playwright's types are imported only by browser tests
    """Debian's chromium, kept off the network (playwright cannot download its own browser here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"])
