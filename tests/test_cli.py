import json
import os
import subprocess
import sys

import pytest

from bot.answer import Bot
from bot.settings import Settings
from ui.questionlog import QuestionLog

from .conftest import CORPUS

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


def test_feedback_export_keeps_formula_like_questions_as_text(bot: Bot, tmp_path) -> None:
    """A question typed as a spreadsheet formula is exported with a leading apostrophe, so opening the CSV in a
    spreadsheet never runs it."""
    import csv
    import io

    settings = Settings(data_dir=tmp_path, corpus_dir=CORPUS)
    log = QuestionLog(tmp_path / "questions.sqlite3")
    for question in ('=HYPERLINK("http://evil.example","x")', "+1+1", "-2", "@SUM(A1)", "What is MADE?"):
        log.record(bot.answer(question), "api")
    result = run(settings, "feedback", "export", "--csv")
    assert result.returncode == 0, result.stderr
    questions = [row["question"] for row in csv.DictReader(io.StringIO(result.stdout))]
    assert questions[:4] == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'+1+1", "'-2", "'@SUM(A1)"]
    assert questions[4] == "What is MADE?"


@pytest.mark.usefixtures("bot")
def test_a_damaged_data_dir_ends_in_one_line_naming_the_file_and_the_fix(settings: Settings, tmp_path) -> None:
    import shutil

    damaged = Settings(data_dir=tmp_path / "data", corpus_dir=settings.corpus_dir)
    shutil.copytree(settings.data_dir / "chroma", damaged.data_dir / "chroma")
    database = damaged.data_dir / "chroma" / "chroma.sqlite3"
    data = bytearray(database.read_bytes())
    data[100:4000] = b"x" * 3900  # the schema pages
    database.write_bytes(bytes(data))
    (damaged.data_dir / "questions.sqlite3").write_bytes(b"not a database" * 100)
    for args, names in ((("ask", "What is MADE?"), ("chroma", "investbot index")),
                        (("index",), ("chroma", "investbot index")),
                        (("feedback", "export", "--csv"), ("questions.sqlite3", "move it away"))):
        result = run(damaged, *args)
        assert result.returncode == 1, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert all(name in lines[0] for name in names), lines[0]


@pytest.mark.parametrize("args", [("ask", "What is MADE?"), ("serve", "--port", "9")])
def test_a_misconfigured_language_model_is_a_usage_error_with_the_fix(settings: Settings,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      args: tuple[str, ...]) -> None:
    monkeypatch.setenv("INVESTBOT_LLM", "openai")  # and no INVESTBOT_LLM_MODEL
    result = run(settings, *args)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "INVESTBOT_LLM_MODEL" in result.stderr
