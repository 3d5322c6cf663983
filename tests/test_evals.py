import subprocess
import sys
from pathlib import Path

import pytest

from bot.answer import Answer, Bot
from bot.compose import Citation
from evals.cases import EvalCase, EvalFileError, load_cases
from evals.metrics import facts_found, failed_checks, normalise, source_hit
from evals.report import write_reports
from evals.runner import PASS_RATE_GATE, run_cases, run_retrieval

REPO = Path(__file__).resolve().parent.parent


def answer_with(text: str, sources: list[str] = (), refused: bool = False, language: str = "en") -> Answer:
    citations = [Citation(i + 1, s, "t", "https://x", None, "s") for i, s in enumerate(sources)]
    return Answer("q", text, language, refused, citations)


def test_matching_ignores_case_accents_and_thousands_separators() -> None:
    assert normalise("Università di PAVIA") == "universita di pavia"
    case = EvalCase(id="x", question="q", expect_facts=[["22847"], ["Citta"], ["1,000,000"]])
    assert facts_found(case, answer_with("There were 22,847 students in the città; 1.000.000 m²")) == [True] * 3
    assert facts_found(case, answer_with("There were 2,284 students")) == [False, False, False]


def test_a_fact_group_passes_on_any_alternative() -> None:
    case = EvalCase(id="x", question="q", expect_facts=[["Aerospace", "Aerospazio"]])
    assert facts_found(case, answer_with("Aerospazio è un'area")) == [True]


def test_sources_match_by_prefix() -> None:
    case = EvalCase(id="x", question="q", expect_sources=["cc:cc-made", "page:"])
    assert source_hit(case, answer_with("", ["page:innovazione#4"]))
    assert source_hit(case, answer_with("", ["cc:cc-made#2"]))
    assert not source_hit(case, answer_with("", ["hub:polihub#0"]))


def test_refusal_and_language_checks() -> None:
    case = EvalCase(id="x", question="q", language="it", expect_refusal=True)
    assert failed_checks(case, answer_with("no", refused=True, language="it")) == []
    assert failed_checks(case, answer_with("yes", refused=False, language="en")) == ["refusal", "language (en)"]


@pytest.mark.parametrize(("text", "message"), [
    ("- id: a\n  question: q\n  expect_facts: [[]]\n", "entry 1 (id 'a'): field 'expect_facts'"),
    ("- id: a\n  question: q\n  expect_refusal: maybe\n", "field 'expect_refusal'"),
    ("- id: a\n  question: q\n- id: a\n  question: r\n", "entry 2 (id 'a'): duplicate id"),
    ("- id: a\n  questoin: q\n", "entry 1 (id 'a'): field"),
    ("id: a\n", "a YAML list of cases"),
    ("- [unclosed\n", "cannot read it as YAML"),
])
def test_a_malformed_eval_file_names_the_file_entry_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(EvalFileError, match=r"bad\.yaml") as error:
        load_cases(path)
    assert message in str(error.value)


def test_public_set_is_well_formed_and_big_enough() -> None:
    cases = load_cases(REPO / "evals" / "questions.yaml")
    assert len(cases) >= 80
    assert sum(c.expect_refusal for c in cases) >= 15
    assert {c.language for c in cases} >= {"en", "it", "de", "fr", "es", "zh"}


def test_public_set_runs_with_follow_up_history_and_writes_reports(bot: Bot, tmp_path: Path) -> None:
    cases = load_cases(REPO / "evals" / "questions.yaml")
    report = run_cases(bot, cases)
    assert report.summary["invented_sources"] == []
    assert report.summary["pass_rate"] >= PASS_RATE_GATE
    assert report.summary["refusal_accuracy_should_refuse"] == 1.0
    follow = next(r for r in report.results if r.id == "follow-bergamo")
    assert follow.passed, follow.failed  # answered with the earlier turn's context
    paths = write_reports(report, tmp_path)
    html = paths[2].read_text()
    assert "Pass rate" in html and "<script" not in html and "http://" not in html.split("<body>")[0]


def test_retrieval_only_reports_recall_and_mrr(bot: Bot) -> None:
    cases = load_cases(REPO / "evals" / "questions.yaml")
    summary = run_retrieval(bot, cases).summary
    assert summary["recall@1"] <= summary["recall@3"] <= summary["recall@5"]
    assert summary["recall@5"] > 0.8 and 0 < summary["mrr"] <= 1


@pytest.mark.usefixtures("bot")
def test_fail_under_sets_the_exit_status(settings, tmp_path: Path) -> None:
    import os

    one = tmp_path / "one.yaml"
    one.write_text("- id: weather\n  question: What is the weather in Rome tomorrow?\n  expect_refusal: false\n")
    env = {**os.environ, "INVESTBOT_DATA_DIR": str(settings.data_dir)}
    cmd = [sys.executable, "-m", "bot.cli", "eval", str(one)]
    failing = subprocess.run([*cmd, "--fail-under", "0.5"], capture_output=True, text=True, env=env)
    assert failing.returncode == 1 and "below --fail-under" in failing.stderr
    lenient = subprocess.run([*cmd, "--fail-under", "0"], capture_output=True, text=True, env=env)
    assert lenient.returncode == 0, lenient.stderr
