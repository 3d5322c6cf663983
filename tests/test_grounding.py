"""The grounding check on its own: what a model may and may not write about its evidence."""

import pytest

from bot.model.grounding import Grounding

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


FIGURES = [
    "Lombardy's GDP was €6.2 billion in the sample year. The region counts 22,847 international students; the "
    "count was published in September 2023. Kilometro Rosso is a science park in Bergamo.",
]


@pytest.fixture(scope="module")
def figures() -> Grounding:
    return Grounding(FIGURES)


@pytest.mark.parametrize(("answer", "language"), [
    ("Das Bruttoinlandsprodukt der Lombardei betrug 6,2 Milliarden Euro [1].", "de"),
    ("Le PIB de la Lombardie était de 6,2 milliards d'euros [1].", "fr"),
    ("El PIB de Lombardía fue de 6.200 millones de euros [1].", "es"),
    ("伦巴第大区的国内生产总值为62亿欧元 [1]。", "zh"),
    ("In Lombardia studiano 22 847 studenti internazionali [1].", "it"),
    ("In Lombardia studiano 22\u202f847 studenti internazionali [1].", "it"),
    ("该数据于2023年9月公布，伦巴第大区有国际学生 22,847 名 [1]。", "zh"),
    ("Kilometro Rosso 是位于贝加莫的科技园区 [1]。", "zh"),
])
def test_figures_written_another_way_in_another_language_pass(figures: Grounding, answer: str,
                                                                language: str) -> None:
    assert figures.check(answer, FIGURES, language=language) is None


@pytest.mark.parametrize(("answer", "language", "kind"), [
    ("Das Bruttoinlandsprodukt der Lombardei betrug 6,2 Billionen Euro [1].", "de", "number"),  # 10¹²
    ("El PIB de Lombardía fue de 6,2 billones de euros [1].", "es", "number"),
    ("伦巴第大区的国内生产总值为6.2亿欧元 [1]。", "zh", "number"),  # 6.2 × 10⁸
    ("[1]", "en", "words"),
    ("6.2 [1]", "en", "words"),
    ("Lombardy's GDP was 6.2 billion euros, as the regional figures of the sample year show [1].", "zh",
     "language"),
    ("Kilometro Rosso 是位于博洛尼亚的科技园区 [1]。", "zh", "place"),  # Bergamo renamed as Bologna
])
def test_figures_scales_language_and_places_that_the_evidence_does_not_back_fail(figures: Grounding, answer: str,
                                                                                  language: str, kind: str) -> None:
    failure = figures.check(answer, FIGURES, language=language)
    assert failure is not None and failure.kind == kind, failure
