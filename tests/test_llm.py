"""The optional language-model backends: the real langchain clients (ChatOpenAI, ChatOllama) against a scripted
model server on loopback, with the real index. The model is the one part that is scripted, because none runs
here; everything the bot does with its answer is real."""

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from gradio_client import Client

from bot.answer import Bot, corpus_texts
from bot.model.llm import LLMConfigError, ModelBackend, chat_model
from bot.settings import Settings
from bot.types import Answer
from evals.cases import EvalCase
from evals.report import write_reports
from evals.runner import run_cases
from tests.fake_llm import FakeLLM, evidence, faithful
from tests.loopback import CHROMIUM, Served, chromium, free_port
from ui.server import create_app

QUESTION = "Which universities are behind the MADE competence center?"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    llm = FakeLLM()
    with Served(llm.app, free_port()) as served:
        llm.url = served.url
        yield llm


@pytest.fixture
def model_bot(bot: Bot, settings: Settings, fake: FakeLLM) -> Iterator[Bot]:
    """The session's index and retriever, answering through ChatOpenAI pointed at the fake server."""
    fake.script = faithful
    fake.pause = 0.0
    fake.requests.clear()
    config = settings.model_copy(update={"llm": "openai", "llm_model": "fake-model", "llm_timeout": 2.0,
                                         "llm_base_url": f"{fake.url}/v1"})
    backend = ModelBackend.from_settings(config, chat_model(config), corpus_texts(bot.retriever))
    yield Bot(bot.retriever, bot.guard, backend, bot.router)


def stream(bot: Bot, question: str, **kwargs) -> tuple[list[str], Answer]:
    *pieces, final = bot.stream(question, **kwargs)
    assert all(isinstance(p, str) for p in pieces) and isinstance(final, Answer)
    return pieces, final


def with_extra(extra: str) -> callable:
    """A faithful answer with one more sentence appended."""
    return lambda messages: f"{faithful(messages)} {extra}"


def test_a_faithful_answer_passes_through_streamed_and_cited(model_bot: Bot, fake: FakeLLM) -> None:
    pieces, answer = stream(model_bot, QUESTION)
    assert answer.backend == "openai:fake-model" and not answer.refused
    assert answer.answer == fake.script(fake.requests[-1]["messages"]).strip()
    assert len(pieces) >= 2 and "".join(pieces).strip() == answer.answer
    given = evidence(fake.requests[-1]["messages"])
    assert [c.n for c in answer.citations] == [1]
    assert answer.citations[0].snippet in given[1]
    assert fake.requests[-1]["stream"] is True


@pytest.mark.parametrize(("extra", "kind", "reason"), [
    ("MADE has 4321 employees [1].", "number", "number 4321"),
    ("See also the partners listed in [9].", "citation", "cites [9]"),
    ("The Zorblax Robotics Institute in Milan can help too [1].", "organisation", "Zorblax Robotics Institute"),
    ("Write to info@zorblax.example [1].", "email", "e-mail"),
    ("Details are at https://zorblax.example/made [1].", "url", "URL"),
])
def test_an_unsupported_answer_is_replaced_by_the_grounded_one(model_bot: Bot, bot: Bot, fake: FakeLLM, extra: str,
                                                                 kind: str, reason: str,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    fake.script = with_extra(extra)
    pieces, answer = stream(model_bot, QUESTION)
    grounded = bot.answer(QUESTION)
    assert answer.backend == f"grounded (llm fallback: grounding: {kind})"  # the kind only, for investors
    assert reason in caplog.text  # the details, for staff
    assert answer.answer == grounded.answer and answer.citations == grounded.citations
    assert extra not in "".join(pieces)  # the unsupported sentence never reached the screen
    assert model_bot.model.fallbacks.total() >= 1


def test_a_citation_of_the_wrong_evidence_is_caught_after_streaming(model_bot: Bot, fake: FakeLLM) -> None:
    """A number that is in the evidence, but not in the evidence the sentence cites."""
    def miscited(messages: list[dict]) -> str:
        given = evidence(messages)
        elsewhere = next(n for i in range(len(given), 1, -1) for n in re.findall(r"\b\d{3,}\b", given[i])
                         if n not in given[1])
        return f"The figure is {elsewhere} [1]."

    fake.script = miscited
    _, answer = stream(model_bot, "What are the figures of Kilometro Rosso and of the Lombardy clusters?")
    assert answer.backend == "grounded (llm fallback: grounding: number)"


@pytest.mark.parametrize("reply", ["500", "hang"])
def test_server_errors_and_timeouts_fall_back_without_hanging(model_bot: Bot, bot: Bot, fake: FakeLLM,
                                                               reply: str) -> None:
    fake.script = lambda messages: reply
    started = time.monotonic()
    _, answer = stream(model_bot, QUESTION)
    assert time.monotonic() - started < 4.5  # the timeout is 2 s; the fake would hang for 5
    assert answer.backend.startswith("grounded (llm fallback:")
    assert answer.answer == bot.answer(QUESTION).answer


@pytest.mark.parametrize(("reply", "reason"), [("", "empty answer"), ("garbage", "JSONDecodeError")])
def test_a_malformed_reply_falls_back(model_bot: Bot, fake: FakeLLM, reply: str, reason: str,
                                      caplog: pytest.LogCaptureFixture) -> None:
    fake.script = lambda messages: reply
    _, answer = stream(model_bot, QUESTION)
    assert answer.backend == "grounded (llm fallback: error)" and reason in caplog.text


def test_a_model_that_declines_what_the_sources_answer_gives_way_to_the_grounded_answer(model_bot: Bot, bot: Bot,
                                                                                        fake: FakeLLM) -> None:
    fake.script = lambda messages: "NO_ANSWER"
    pieces, answer = stream(model_bot, QUESTION)
    assert not pieces and not answer.refused and answer.answer == bot.answer(QUESTION).answer
    assert answer.backend == "grounded (llm fallback: declined)"


def test_an_answer_in_another_language_than_the_question_gives_way_to_the_grounded_one(model_bot: Bot, bot: Bot,
                                                                                       fake: FakeLLM) -> None:
    question = "哪些大学参与了 MADE 能力中心？"
    fake.script = lambda messages: ("According to the sources, MADE is led by the Politecnico di Milano together "
                                    "with other universities of the region [1].")
    _, answer = stream(model_bot, question)
    assert answer.backend == "grounded (llm fallback: grounding: language)"
    assert answer.answer == bot.answer(question).answer


@pytest.mark.parametrize(("question", "language"), [
    ("Welche Universitäten stehen hinter dem Kompetenzzentrum MADE?", "German"),
    ("Quali università sono dietro il competence center MADE?", "Italian"),
    ("哪些大学支持MADE能力中心？", "Chinese"),
])
def test_the_question_language_reaches_the_prompt(model_bot: Bot, fake: FakeLLM, question: str,
                                                  language: str) -> None:
    stream(model_bot, question)
    system = fake.requests[-1]["messages"][0]["content"]
    assert f"Answer in {language}" in system
    assert fake.requests[-1]["messages"][-1]["content"] == question


def test_a_follow_up_is_condensed_by_the_model(model_bot: Bot, fake: FakeLLM) -> None:
    def script(messages: list[dict]) -> str:
        if messages[0]["content"].startswith("Rewrite"):
            return "Which innovation hubs are there in the province of Bergamo?"
        return faithful(messages)

    fake.script = script
    history = [{"role": "user", "content": "Which innovation hubs are there in Pavia?"},
               {"role": "assistant", "content": "…"}]
    _, answer = stream(model_bot, "and there?", history=history)
    condense, reply = fake.requests[-2:]
    assert condense["messages"][0]["content"].startswith("Rewrite") and not condense.get("stream")
    assert answer.hubs and {h.province for h in answer.hubs} == {"BG"}
    assert [m["content"] for m in reply["messages"][1:3]] == [history[0]["content"], history[1]["content"]]


def test_the_ollama_backend(bot: Bot, settings: Settings, fake: FakeLLM) -> None:
    fake.script = faithful
    config = settings.model_copy(update={"llm": "ollama", "llm_model": "fake-model", "llm_base_url": fake.url})
    backend = ModelBackend.from_settings(config, chat_model(config), corpus_texts(bot.retriever))
    pieces, answer = stream(Bot(bot.retriever, bot.guard, backend, bot.router), QUESTION)
    assert answer.backend == "ollama:fake-model" and pieces and answer.citations


def test_a_misconfigured_backend_is_a_clear_start_up_error(settings: Settings, tmp_path) -> None:
    with pytest.raises(LLMConfigError, match="INVESTBOT_LLM_MODEL"):
        chat_model(settings.model_copy(update={"llm": "ollama", "llm_model": None}))
    with pytest.raises(LLMConfigError, match="not a GGUF file"):
        chat_model(settings.model_copy(update={"llm": "llamacpp", "llm_model": str(tmp_path / "none.gguf")}))
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    # llama-cpp-python builds from source for minutes, so the test environment does not install the extra
    with pytest.raises(LLMConfigError, match=r"pip install -e '\.\[llamacpp\]'"):
        chat_model(settings.model_copy(update={"llm": "llamacpp", "llm_model": str(tmp_path / "model.gguf")}))


def test_the_api_and_the_chat_stream_the_model_answer(model_bot: Bot, settings: Settings, fake: FakeLLM,
                                                      tmp_path) -> None:
    config = settings.model_copy(update={"rate_limit": 1000, "data_dir": tmp_path})
    with Served(create_app(config, model_bot), free_port()) as served:
        with httpx.stream("POST", f"{served.url}/api/ask/stream", json={"question": QUESTION}, timeout=30) as r:
            lines = [json.loads(line) for line in r.iter_lines() if line]
        deltas = [line["delta"] for line in lines if "delta" in line]
        final = lines[-1]["answer"]
        assert len(deltas) >= 2 and final["backend"] == "openai:fake-model"
        assert "".join(deltas).strip() == final["answer"] and final["citations"]
        health = httpx.get(f"{served.url}/healthz").json()
        assert health["backend"] == "openai:fake-model"

        chat = Client(served.url, verbose=False)
        job = chat.submit(QUESTION, [], [], api_name="/ask")
        outputs = list(job)
        last = job.result()[1][-1]["content"]  # gr.State outputs are not sent to API clients
        text = last[0]["text"] if isinstance(last, list) else str(last)
        assert len(outputs) >= 3  # streamed pieces, then the final message with its sources
        assert text.startswith(final["answer"]) and "<details>" in text


def test_with_no_model_configured_no_backend_package_is_imported(settings: Settings, bot: Bot) -> None:
    code = ("import sys; from bot.answer import Bot; from bot.settings import Settings; from ui.server import "
            "create_app; s = Settings(); create_app(s, Bot.from_settings(s)); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('langchain_openai', 'langchain_ollama', 'langchain_community', 'openai', 'ollama', 'llama_cpp')))")
    env = {**os.environ, "INVESTBOT_DATA_DIR": str(settings.data_dir), "INVESTBOT_LLM": "none"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_eval_report_states_the_backend_and_its_fallbacks(model_bot: Bot, fake: FakeLLM, tmp_path) -> None:
    cases = [EvalCase(id="made", question=QUESTION, expect_sources=["cc:"]),
             EvalCase(id="weather", question="What's the weather in Rome tomorrow?", expect_refusal=True)]
    fake.script = with_extra("MADE has 4321 employees [1].")
    report = run_cases(model_bot, cases)
    assert report.summary["backend"] == "openai:fake-model" and report.summary["llm_fallbacks"] == 1
    written = write_reports(report, tmp_path)
    assert any("openai:fake-model (fallbacks to grounded: 1)" in p.read_text() for p in written)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_the_widget_shows_the_model_answer_as_it_streams(model_bot: Bot, settings: Settings, fake: FakeLLM,
                                                        tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    config = settings.model_copy(update={"rate_limit": 1000, "data_dir": tmp_path})
    fake.pause = 0.1
    with Served(create_app(config, model_bot), free_port()) as served, sync_playwright() as p:
        browser = chromium(p)
        page = browser.new_page()
        page.goto(f"{served.url}/widget", wait_until="load")
        # every text the answer bubble shows, in order
        page.evaluate("""() => { window.seen = []; new MutationObserver(() => {
            const bots = document.querySelectorAll('.msg.bot');
            if (bots.length) window.seen.push(bots[bots.length - 1].firstChild.textContent);
        }).observe(document.getElementById('log'), {childList: true, subtree: true, characterData: true}); }""")
        page.locator("#q").fill(QUESTION)
        page.locator("#send").click()
        page.locator(".msg.bot .sources a").first.wait_for(timeout=30_000)
        seen = page.evaluate("window.seen")
        final = fake.script(fake.requests[-1]["messages"]).strip()
        browser.close()
    assert seen[-1].strip() == final  # the final answer, rendered from answer_html
    assert any(text and final.startswith(text) and text != final for text in seen)  # a partial, as it streamed


def test_an_unreachable_model_server_falls_back(bot: Bot, settings: Settings) -> None:
    config = settings.model_copy(update={"llm": "openai", "llm_model": "fake-model", "llm_timeout": 2.0,
                                         "llm_base_url": f"http://127.0.0.1:{free_port()}/v1"})  # nobody listens
    backend = ModelBackend.from_settings(config, chat_model(config), corpus_texts(bot.retriever))
    _, answer = stream(Bot(bot.retriever, bot.guard, backend, bot.router), QUESTION)
    assert answer.backend == "grounded (llm fallback: error)"  # not the provider's message, which may hold a key
    assert answer.answer == bot.answer(QUESTION).answer
