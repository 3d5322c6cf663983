"""The grounding check on its own: what a model may and may not write about its evidence."""

import pytest

from bot.grounding import Grounding

EVIDENCE = [
    "Kilometro Rosso (www.kilometrorosso.com)\nKilometro Rosso is a science park in Bergamo hosting about 1,200 "
    "researchers. Write to info@kilometrorosso.com.",
    "MADE (https://www.made-cc.eu/)\nMADE is the competence center led by the Politecnico di Milano, founded in "
    "2018 with 48 partners, under the national Industria 4.0 plan.",
]
CORPUS = [*EVIDENCE, "The Lombardy Life Sciences Cluster gathers companies in the health sector. Contact the agency."]


@pytest.fixture(scope="module")
def grounding() -> Grounding:
    return Grounding(CORPUS)


@pytest.mark.parametrize("answer", [
    "Kilometro Rosso in Bergamo hosts about 1.200 researchers [1].",
    "Contact Kilometro Rosso at info@kilometrorosso.com or https://kilometrorosso.com/ [1].",
    "MADE, led by the Politecnico di Milano, was founded in 2018 with 48 partners [2].",
    "Die Lombardei bietet mit MADE Forschung und Entwicklung für die Industrie [2].",
    "Il Lombardy Life Sciences Cluster riunisce le imprese della salute [1][2].",
    "1. Kilometro Rosso [1]\n2. MADE, Industria 4.0 [2]",
    "For R&D and SMEs, see Kilometro Rosso [1, 2].",
    "Für Ihre Forschung und Entwicklung bietet sich Kilometro Rosso an [1]. Weitere Informationen: [1]",
    "Das Kompetenzzentrum MADE wird vom Politecnico di Milano geleitet, mit den Universitäten Bergamo [2].",
])
def test_faithful_answers_pass(grounding: Grounding, answer: str) -> None:
    assert grounding.check(answer, EVIDENCE) is None


@pytest.mark.parametrize(("answer", "kind"), [
    ("Kilometro Rosso hosts about 1,500 researchers [1].", "number"),
    ("MADE was founded in 2018 [1].", "number"),  # the year is in evidence 2, not in the cited one
    ("MADE has partners [3].", "citation"),
    ("MADE is the competence center of Lombardy.", "citation"),
    ("Write to made@polimi.example [2].", "email"),
    ("See https://www.made-cc.eu/partners [2].", "url"),
    ("MADE in one chart: ![chart](https://evil.example/c.png?d=1) [2]", "url"),  # no image from outside
    ("MADE works with the Milan Biotech Institute [2].", "organisation"),
    ("Ask ZRBX, the partner of MADE [2].", "organisation"),
    ("Zorblax Labs is a partner of MADE [2].", "organisation"),
])
def test_unsupported_answers_fail_with_their_reason(grounding: Grounding, answer: str, kind: str) -> None:
    failure = grounding.check(answer, EVIDENCE)
    assert failure is not None and failure.kind == kind, failure


def test_a_streamed_sentence_is_checked_against_all_the_evidence_given(grounding: Grounding) -> None:
    assert grounding.check("MADE was founded in 2018 and", EVIDENCE, require_citation=False) is None
    assert grounding.check("MADE was founded in 2019 and", EVIDENCE, require_citation=False).kind == "number"
