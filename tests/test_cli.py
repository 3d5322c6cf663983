import json
import os
import subprocess
import sys

import pytest

from bot.settings import Settings

ANSWER_KEYS = {"question", "answer", "language", "refused", "citations", "hubs", "backend", "timings_ms", "intent",
               "answer_html"}
CITATION_KEYS = {"n", "source_id", "title", "url", "page", "snippet"}


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "INVESTBOT_DATA_DIR": str(settings.data_dir), "INVESTBOT_CORPUS_DIR": str(settings.corpus_dir)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.usefixtures("bot")  # the index is built once by the session fixture
def test_ask_json_prints_the_answer_object(settings: Settings) -> None:
    result = run(settings, "ask", "--json", "Which universities are behind the MADE competence center?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == ANSWER_KEYS
    assert answer["refused"] is False and answer["backend"] == "grounded"
    assert answer["citations"] and set(answer["citations"][0]) == CITATION_KEYS
    assert set(answer["timings_ms"]) == {"retrieve", "compose", "total"}


@pytest.mark.usefixtures("bot")
def test_ask_weather_is_refused_with_contact(settings: Settings) -> None:
    result = run(settings, "ask", "--json", "What is the weather in Rome tomorrow?")
    answer = json.loads(result.stdout)
    assert answer["refused"] is True
    assert "info@investinlombardy.it" in answer["answer"]


@pytest.mark.usefixtures("bot")
def test_ask_prints_markdown_with_numbered_sources(settings: Settings) -> None:
    result = run(settings, "ask", "What is Kilometro Rosso?")
    assert result.returncode == 0
    assert "**Sources**" in result.stdout and "[1] " in result.stdout and "hub:kilometro-rosso" in result.stdout


def test_ask_without_a_question_is_a_usage_error(settings: Settings) -> None:
    result = run(settings, "ask", "")
    assert result.returncode != 0
    assert "empty" in result.stderr


@pytest.mark.usefixtures("bot")
def test_index_reports_a_no_op_summary(settings: Settings) -> None:
    result = run(settings, "index")
    assert result.returncode == 0, result.stderr
    assert "added 0, updated 0, removed 0" in result.stdout


def test_corpus_check_passes_on_the_shipped_corpus(settings: Settings) -> None:
    result = run(settings, "corpus", "check")
    assert result.returncode == 0, result.stderr
    assert "0 problem(s)" in result.stdout
