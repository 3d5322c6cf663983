import subprocess
import sys
from pathlib import Path

import pytest

from bot.answer import Bot
from bot.cli import DEFAULT_EVALS
from bot.types import Answer, Citation, HubRef
from evals.cases import EvalCase, EvalFileError, load_cases
from evals.metrics import CorpusView, check, check_name, facts_found, language_share, normalise, source_hit
from evals.report import write_reports
from evals.runner import PASS_RATE_GATE, consistency, run_cases, run_retrieval

REPO = Path(__file__).resolve().parent.parent


def answer_with(text: str, sources: list[str] = (), refused: bool = False, language: str = "en",
                hubs: list[HubRef] = ()) -> Answer:
    citations = [Citation(i + 1, s, "t", "https://x", None, "s") for i, s in enumerate(sources)]
    return Answer("q", text, language, refused, citations, list(hubs))


def hub(id_: str, sectors: list[str], province: str = "MI", type_: str = "incubator") -> HubRef:
    return HubRef(id_, id_.split(":")[1], type_, "Milano", province, 45.4, 9.2, "city", None, sectors)


CORPUS = CorpusView(names=["Lombardy Aerospace Cluster", "Politecnico di Milano"], hubs={})


def failed(case: EvalCase, answer: Answer) -> list[str]:
    return list(dict.fromkeys(check_name(f) for f in check(case, answer, CORPUS).failed))


def test_matching_ignores_case_accents_and_thousands_separators() -> None:
    assert normalise("Università di PAVIA") == "universita di pavia"
    assert normalise("5,4 Milliarden") == normalise("5.4 milliarden")
    case = EvalCase(id="x", question="q", expect_facts=[["22847"], ["Citta"], ["1,000,000"]])
    assert facts_found(case, answer_with("There were 22,847 students in the città; 1.000.000 m²")) == [True] * 3
    assert facts_found(case, answer_with("There were 2,284 students")) == [False, False, False]


def test_a_number_matches_only_as_a_whole_number() -> None:
    case = EvalCase(id="x", question="q", expect_facts=[["25"]])
    assert facts_found(case, answer_with("Lombardy has 25 ITS foundations")) == [True]
    assert facts_found(case, answer_with("In 2025 there were 250 courses and 2.5 million")) == [False]
    assert facts_found(case, answer_with("Il y a 1,25 million d'étudiants")) == [False]


def test_a_number_after_chinese_punctuation_is_found() -> None:
    """"，2023年" folds to ",2023": the comma there is punctuation, not part of the number."""
    case = EvalCase(id="x", question="q", expect_facts=[["2023"]])
    assert facts_found(case, answer_with("据Istat数据，2023年伦巴第大区GDP为4904亿欧元。")) == [True]


def test_a_year_before_a_figure_stays_two_numbers() -> None:
    """German writes "im Jahr 2023 490,4 Milliarden": a space may separate thousands ("22 847"), but a four-digit
    group cannot begin a number written with separators."""
    case = EvalCase(id="x", question="q", expect_facts=[["490.4"], ["2023"]])
    assert facts_found(case, answer_with("Das BIP betrug im Jahr 2023 490,4 Milliarden Euro.")) == [True, True]
    spaced = EvalCase(id="y", question="q", expect_facts=[["22847"]])
    assert facts_found(spaced, answer_with("Im Jahr 2024 waren es 22 847 Studierende.")) == [True]


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
    decline = "Le fonti che ho non trattano questo argomento. Contatti l'agenzia: info@investinlombardy.it"
    assert failed(case, answer_with(decline, refused=True, language="it")) == []
    answered_in_english = answer_with("Here is the answer to your question about the region.", language="en")
    assert failed(case, answered_in_english) == ["refusal", "language", "content_language"]


def test_a_decline_without_the_agency_contact_fails() -> None:
    case = EvalCase(id="x", question="q", language="en", expect_refusal=True)
    assert failed(case, answer_with("The sources I have do not cover visas.", refused=True)) == ["contact"]


GERMAN = EvalCase(id="de", question="Welche Cluster gibt es?", language="de")


def test_english_prose_under_a_german_heading_fails_the_content_language_check() -> None:
    english = ("**Das sagen die Quellen:**\n\nThe Lombardy Aerospace Cluster brings together companies, universities "
               "and research centres working on aircraft, helicopters and space systems [1].\n- It was founded to "
               "support the regional aerospace supply chain and its small and medium enterprises [2].")
    assert "content_language" in failed(GERMAN, answer_with(english, ["cluster:a"], language="de"))
    german = ("Der Lombardy Aerospace Cluster vereint Unternehmen, Universitäten und Forschungszentren, die an "
              "Flugzeugen, Hubschraubern und Raumfahrtsystemen arbeiten [1].")
    assert failed(GERMAN, answer_with(german, ["cluster:a"], language="de")) == []


def test_names_tables_and_urls_do_not_count_as_prose() -> None:
    text = ("Il Politecnico di Milano guida il centro di competenza e collabora con le università lombarde [1].\n\n"
            "| Lombardy Aerospace Cluster | incubator | Milano | aerospace, space economy, satellites |\n"
            "https://www.lombardyaerospace.example/about-the-cluster-and-its-members")
    assert language_share(text, "it", CORPUS.names) == 1.0


def test_a_hub_of_another_sector_province_or_type_fails() -> None:
    case = EvalCase(id="x", question="q", hub_sector=["medical", "health"], hub_province=["MI"],
                    hub_type=["incubator"], min_hubs=1, max_hubs=2)
    good = hub("hub:a", ["medical devices"])
    assert failed(case, answer_with("Two hubs fit your question well [1].", hubs=[good])) == []
    for bad in (hub("hub:b", ["agri-food", "dairy"]), hub("hub:c", ["health"], province="BG"),
                hub("hub:d", ["health"], type_="coworking")):
        assert failed(case, answer_with("Two hubs fit your question well [1].", hubs=[good, bad])) == ["hubs"]
    assert failed(case, answer_with("No hub fits your question in this place.")) == ["hubs"]


def test_a_curation_note_a_raw_label_or_a_fragment_fails_the_notes_check() -> None:
    case = EvalCase(id="x", question="q")
    for text in ("Lombardy has 9 clusters [1]. Note: secondary aggregator source; original study not consulted.",
                 "There are 25 ITS foundations (value: 25) [1].",
                 "The report counts 83 investments [1].\n- it reported 83 investments in 2023 [2].",
                 "The cluster's site:\nhttps://www.afil.it"):
        assert failed(case, answer_with(text)) == ["notes"], text


def test_the_lead_check_reads_only_the_first_sentence() -> None:
    case = EvalCase(id="x", question="How many ITS academies?", lead=[["25"]])
    assert failed(case, answer_with("Lombardy has 25 ITS Academy foundations [1]. They train technicians.")) == []
    late = "Here is what the sources say. ITS academies train technicians; Lombardy has 25 of them [1]."
    assert failed(case, answer_with(late)) == ["lead"]


def test_a_pile_of_quotes_fails_max_statements() -> None:
    case = EvalCase(id="x", question="q", max_statements=4)
    pile = "\n".join(f"- Statement number {i} about the clusters of the region [{i}]." for i in range(1, 9))
    assert failed(case, answer_with(pile)) == ["statements"]
    assert failed(case, answer_with("\n".join(pile.splitlines()[:4]))) == []


def test_forbidden_strings_and_more_than_one_uncertainty_marker_fail() -> None:
    case = EvalCase(id="x", question="q", forbid=["Piemonte"])
    assert failed(case, answer_with("Piemonte has a cluster [1].")) == ["forbid"]
    marked = "A figure [1] (marked as uncertain in the sources)\n- Another [2] (marked as uncertain in the sources)"
    assert failed(EvalCase(id="y", question="q"), answer_with(marked)) == ["uncertainty"]


def test_variants_that_disagree_are_listed() -> None:
    cases = [EvalCase(id="a-en", question="q"), EvalCase(id="a-de", question="q", variant_of="a-en"),
             EvalCase(id="a-it", question="q", variant_of="a-en")]
    en = answer_with("x", ["s3:industria-salute#0", "cluster:ctl-scienze-vita#1"],
                     hubs=[hub("hub:a", []), hub("hub:b", []), hub("hub:c", []), hub("hub:z", [])])
    de = answer_with("x", ["cluster:ctl-scienze-vita#0", "s3:industria-salute#2"],
                     hubs=[hub("hub:b", []), hub("hub:a", []), hub("hub:c", [])])
    it = answer_with("x", ["s3:agroalimentare#0"], hubs=[hub("hub:a", []), hub("hub:q", [])], refused=False)
    disagreements, pairs = consistency(cases, {"a-en": en, "a-de": de, "a-it": it})
    assert pairs == 2
    assert [d["id"] for d in disagreements] == ["a-it"]
    assert set(disagreements[0]["differ"]) == {"areas_and_clusters", "first_hubs"}


def test_variant_of_must_name_a_case_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text("- id: a-de\n  question: q\n  variant_of: a-en\n")
    with pytest.raises(EvalFileError, match="variant_of"):
        load_cases(path)


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
    assert len(cases) >= 300
    assert sum(c.expect_refusal for c in cases) >= 60
    assert {c.language for c in cases} >= {"en", "it", "de", "fr", "es", "zh"}
    assert sum(c.variant_of is not None for c in cases) >= 150
    routing = load_cases(REPO / "evals" / "routing.yaml")
    assert len(routing) >= 300 and all(c.intent for c in routing)


def test_default_sets_pass_the_gate_with_follow_up_history_and_write_reports(bot: Bot, tmp_path: Path) -> None:
    cases = [case for path in DEFAULT_EVALS for case in load_cases(path)]
    report = run_cases(bot, cases)
    assert report.summary["invented_sources"] == []
    assert report.summary["pass_rate"] >= PASS_RATE_GATE
    assert report.summary["refusal_accuracy_should_refuse"] == 1.0
    assert report.summary["route_accuracy"] >= 0.95
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
