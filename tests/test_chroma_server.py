"""Client/server mode: app replicas that share one real `chroma run` server on loopback (DESIGN.md)."""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.answer import Bot
from bot.settings import Settings
from index.build import build_index
from index.store import open_client, read_state
from tests.conftest import NEW_PAGE_QUESTION, add_new_page
from tests.loopback import free_port

CHROMA = Path(sys.executable).parent / "chroma"
QUESTION = "Which universities are behind the MADE competence center?"


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("chroma run did not start")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def test_replicas_share_the_index_on_a_chroma_server(chroma_port: int, tiny_corpus: Path, tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "replica-1", corpus_dir=tiny_corpus, chroma_host="127.0.0.1",
                     chroma_port=chroma_port)
    built = Bot.from_settings(first)  # the first replica finds no index on the server and builds it there
    answer = built.answer(QUESTION)
    assert not answer.refused and any(c.source_id.startswith("cc:cc-made") for c in answer.citations)

    second = first.model_copy(update={"data_dir": tmp_path / "replica-2"})
    same = Bot.from_settings(second).answer(QUESTION)  # reads the server's index: builds nothing
    assert same.answer == answer.answer
    assert not (tmp_path / "replica-2" / "chroma").exists() and not (tmp_path / "replica-1" / "chroma").exists()

    # staff add a file and re-index through the server; a replica started afterwards answers from it
    add_new_page(tiny_corpus)
    client = open_client(second.data_dir, second.chroma_host, second.chroma_port)
    before = read_state(client).collection
    summary = build_index(client, tiny_corpus, second.data_dir)
    assert summary.added == 1 and read_state(client).collection != before
    fresh = Bot.from_settings(second).answer(NEW_PAGE_QUESTION)
    assert any(c.source_id.startswith("page:extra") for c in fresh.citations)
