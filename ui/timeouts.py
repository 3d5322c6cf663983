"""Slow clients: a request must arrive whole (headers and body) within a time limit of the connection opening or of
the previous response on it. uvicorn closes idle keep-alive connections, but never one that sends its request a byte
at a time, so a few hundred of those would hold the server's sockets for ever (slowloris). uvicorn has no option for
it; its HTTP protocol class is the extension point it offers (`uvicorn.run(..., http=<class>)`)."""

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)


class TimedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (a C parser: under a 50-client chat run, h11's pure-Python one took a sixth of
    the event loop's time) with the time limit."""

    request_timeout = 10.0  # seconds; set by `timed_protocol`

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and self.cycle is not self._armed_for and not self.cycle.more_body:
            self._disarm()  # this request has arrived whole

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request on this connection gets the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._armed_for = self.cycle
        self._timer: asyncio.TimerHandle | None = self.loop.call_later(self.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if getattr(self, "_timer", None) is not None:
            self._timer.cancel()
        self._timer = None

    def _too_slow(self) -> None:
        if not self.transport.is_closing():
            log.info("closed a connection whose request took over %.0f s to arrive", self.request_timeout)
            self.transport.close()


def timed_protocol(seconds: float) -> type[TimedHttpProtocol]:
    """The protocol class for uvicorn with this time limit."""
    return type("TimedHttpProtocol", (TimedHttpProtocol,), {"request_timeout": seconds})


def uvicorn_options(request_timeout: float) -> dict:
    """How `investbot serve` runs uvicorn (and the tests, the same way)."""
    return {"http": timed_protocol(request_timeout), "log_level": "warning"}
