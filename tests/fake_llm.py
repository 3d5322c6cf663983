"""A small language-model server for tests: the OpenAI chat-completions API (streamed and not) and Ollama's
/api/chat, answering with what the test scripts. It stands in for a hosted model, which cannot run here; the
langchain clients that talk to it are the real ones."""

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

# A reply is text, or one of these: "500" answers with a server error, "hang" waits longer than any test timeout,
# "garbage" streams something that is not JSON.
Script = Callable[[list[dict]], str]


def evidence(messages: list[dict]) -> dict[int, str]:
    """The numbered evidence the bot put in its system message."""
    system = messages[0]["content"]
    body = system.split("Evidence:\n", 1)[1]
    return {int(n): text.strip() for n, text in re.findall(r"^\[(\d+)\] (.*?)(?=^\[\d+\] |\Z)", body, re.M | re.S)}


def faithful(messages: list[dict]) -> str:
    """A sentence copied from the first piece of evidence, cited: what a well-behaved model writes."""
    text = evidence(messages)[1].split("\n", 1)[1]
    sentence = re.split(r"(?<=[.!?])\s", text.strip())[0]
    return f"According to the sources: {sentence} [1]\nThis is what the agency's material says [1]."


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: Script = faithful
        self.pause = 0.0  # seconds between streamed pieces, for a test that must see the answer grow
        self.app = FastAPI()
        self.app.post("/v1/chat/completions", response_model=None)(self._openai)
        self.app.post("/api/chat", response_model=None)(self._ollama)

    async def _reply(self, body: dict) -> str:
        self.requests.append(body)
        reply = self.script(body["messages"])
        if reply == "hang":
            await asyncio.sleep(5)
        return reply

    async def _openai(self, request: Request) -> JSONResponse | StreamingResponse:
        body = await request.json()
        reply = await self._reply(body)
        if reply == "500":
            return JSONResponse({"error": {"message": "model crashed", "type": "server_error"}}, status_code=500)
        if reply == "garbage":
            return StreamingResponse(iter(["data: {not json\n\n"]), media_type="text/event-stream")
        if not body.get("stream"):
            return JSONResponse({"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": reply}}]})

        async def events() -> AsyncIterator[str]:
            for piece in _pieces(reply):
                await asyncio.sleep(self.pause)
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
            done = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            yield f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def _ollama(self, request: Request) -> JSONResponse | StreamingResponse:
        body = await request.json()
        reply = await self._reply(body)
        if reply == "500":
            return JSONResponse({"error": "model crashed"}, status_code=500)
        stamp = {"model": body["model"], "created_at": "2026-11-24T00:00:00Z"}
        if body.get("stream") is False:
            return JSONResponse({**stamp, "message": {"role": "assistant", "content": reply}, "done": True,
                                 "done_reason": "stop"})

        def lines() -> Iterator[str]:
            for piece in _pieces(reply):
                yield json.dumps({**stamp, "message": {"role": "assistant", "content": piece}, "done": False}) + "\n"
            yield json.dumps({**stamp, "message": {"role": "assistant", "content": ""}, "done": True,
                              "done_reason": "stop", "total_duration": 1, "load_duration": 1,
                              "prompt_eval_count": 1, "prompt_eval_duration": 1, "eval_count": 1,
                              "eval_duration": 1}) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")


def _pieces(reply: str) -> list[str]:
    """The reply a few words at a time, as a model streams it."""
    words = reply.split(" ")
    return [" ".join(words[i:i + 3]) + (" " if i + 3 < len(words) else "") for i in range(0, len(words), 3)]
