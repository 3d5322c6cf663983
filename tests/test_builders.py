"""The router and the answer builders, as an investor meets them: the right route in every language, the answer
to the question in the first sentence, declines that name the topic, follow-ups that keep the conversation."""

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.answer import Bot
from bot.languages import codes, language
from evals.cases import load_cases
from evals.metrics import first_sentence

REPO = Path(__file__).resolve().parent.parent


def test_every_language_file_has_the_same_keys_and_every_intent() -> None:
    """Adding a language means adding one file: each file carries everything the bot says and learns from."""
    intents = set(yaml.safe_load((REPO / "bot" / "route" / "intents.yaml").read_text())) - {"entity"}
    english = language("en")
    for code in codes():
        data = language(code)
        assert set(data) == set(english), code
        assert set(data["phrases"]) == set(english["phrases"]), code
        assert set(data["topics"]) == set(english["topics"]), code
        assert set(data["routes"]) == intents, code


def test_the_router_finds_each_intent_in_each_language(bot: Bot) -> None:
    """The held-out routing set: every language at least 93 % right, no intent lost in any language."""
    right: dict[str, list[bool]] = defaultdict(list)
    by_intent: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for case in load_cases(REPO / "evals" / "routing.yaml"):
        routed = bot.router.classify(bot.retriever.embeddings.embed_query(case.question)).intent
        right[case.language].append(routed == case.intent)
        by_intent[(case.intent, case.language)].append(routed == case.intent)
    assert set(right) == set(codes())
    for lang, hits in right.items():
        assert sum(hits) / len(hits) >= 0.93, lang
    lost = [key for key, hits in by_intent.items() if not any(hits)]
    assert not lost


@pytest.mark.parametrize(("question", "lead"), [
    ("How many ITS Academy foundations are there in Lombardy?", "25"),
    ("Quante fondazioni ITS Academy ci sono in Lombardia?", "25"),
    ("Wie viele Technologiecluster gibt es in der Lombardei?", "9"),
    ("What is the website of the Lombardy Aerospace Cluster?", "aerospacelombardia.it"),
    ("¿Cuál es la web del clúster de ciencias de la vida?", "lombardialifesciences.it"),
    ("How do I contact Invest in Lombardy?", "info@investinlombardy.it"),
    ("如何联系伦巴第投资促进机构？", "info@investinlombardy.it"),
    ("Où se trouve le cluster lombard des sciences de la vie ?", "Pantano"),
])
def test_the_first_sentence_answers(bot: Bot, question: str, lead: str) -> None:
    answer = bot.answer(question)
    assert not answer.refused
    assert lead in first_sentence(answer.answer), answer.answer


@pytest.mark.parametrize(("question", "area", "cluster"), [
    ("I make medical devices: where in Lombardy should I set up R&D?", "Health industry", "Life Sciences"),
    ("Produciamo componenti aerospaziali: dove conviene insediarci in Lombardia?", "Aerospazio", "Aerospace"),
    ("Wir stellen Medizinprodukte her: wo in der Lombardei sollten wir F&E ansiedeln?", "Industria della salute",
     "Life Sciences"),
])
def test_where_to_locate_opens_with_the_area_and_the_cluster(bot: Bot, question: str, area: str,
                                                              cluster: str) -> None:
    answer = bot.answer(question)
    assert answer.intent == "where_to_locate" and answer.hubs
    opening = first_sentence(answer.answer)
    assert area in opening and cluster in opening, opening


TOPICS = ["tax", "visa", "salary", "real_estate", "grants", "registration", "banking"]
OUT_OF_CORPUS = {
    "en": ["What is the corporate tax rate?", "How do I get work visas for my engineers?",
           "What does an engineer earn in Milan?", "How much is office rent per square metre in Milan?",
           "Which grants can I get for a new factory?", "What are the steps to register a company?",
           "Which bank should I open an account with?"],
    "de": ["Wie hoch ist die Körperschaftsteuer?", "Wie bekomme ich Arbeitsvisa für meine Ingenieure?",
           "Was verdient ein Ingenieur in Mailand?", "Wie hoch sind die Büromieten in Mailand?",
           "Welche Fördermittel bekomme ich für ein neues Werk?", "Wie gründe ich eine Firma in Italien?",
           "Bei welcher Bank eröffne ich ein Geschäftskonto?"],
    "zh": ["意大利的企业所得税税率是多少？", "我的工程师如何办理工作签证？", "米兰工程师的工资是多少？",
           "米兰办公室每平方米租金多少？", "新建工厂可以申请哪些补贴？", "在意大利注册公司有哪些步骤？",
           "我应该在哪家银行开户？"],
}


@pytest.mark.parametrize("lang", sorted(OUT_OF_CORPUS))
def test_out_of_corpus_topics_are_declined_by_name_with_the_contact(bot: Bot, lang: str) -> None:
    for topic, question in zip(TOPICS, OUT_OF_CORPUS[lang], strict=True):
        answer = bot.answer(question)
        assert answer.refused and answer.intent == f"decline_{topic}", (question, answer.intent)
        assert language(lang)["topics"][topic] in first_sentence(answer.answer), answer.answer
        assert "info@investinlombardy.it" in answer.answer


def test_follow_up_in_another_town_keeps_the_sector(bot: Bot) -> None:
    history = [{"role": "user", "content": "Where are life-sciences research centres in Pavia?"}]
    answer = bot.answer("And in Milan?", history)
    assert answer.hubs and all(h.province == "MI" for h in answer.hubs)
    sectors = " ".join(s for h in answer.hubs for s in h.sectors).lower()
    assert any(word in sectors for word in ("life", "bio", "health", "medic", "oncolog")), sectors


def test_follow_up_website_and_count_refer_to_the_earlier_subject(bot: Bot) -> None:
    cluster = [{"role": "user", "content": "Welcher Cluster ist für die Luft- und Raumfahrt zuständig?"}]
    assert "aerospacelombardia.it" in first_sentence(bot.answer("Und die Website?", cluster).answer)
    academies = [{"role": "user", "content": "Cosa sono gli ITS Academy in Lombardia?"}]
    assert "25" in first_sentence(bot.answer("Quanti sono?", academies).answer)


def test_which_is_closest_ranks_the_earlier_hubs_by_distance(bot: Bot) -> None:
    history = [{"role": "user", "content": "Which science parks are there in Lombardy?"}]
    earlier = bot.answer(history[0]["content"])
    answer = bot.answer("Which one is closest to Como?", history)
    assert answer.hubs and {h.id for h in answer.hubs} <= {h.id for h in earlier.hubs}
    assert answer.hubs[0].name in first_sentence(answer.answer)


@pytest.mark.parametrize(("question", "members"), [
    ("What are the specialisation areas of Lombardy's Smart Specialisation Strategy?", 7),
    ("Quali sono le aree di specializzazione della S3 lombarda?", 7),
    ("Welche Technologiecluster gibt es in der Lombardei?", 9),
])
def test_a_question_about_the_whole_set_names_every_member(bot: Bot, question: str, members: int) -> None:
    answer = bot.answer(question)
    bullets = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    assert len(bullets) == members, answer.answer
    assert all(line.rstrip().endswith("]") for line in bullets)  # each member cited


def test_a_question_about_one_member_of_the_set_is_not_answered_with_the_whole_list(bot: Bot) -> None:
    answer = bot.answer("Quali sono i cluster tecnologici lombardi per la chimica verde?")
    assert answer.answer.startswith("La Lombardy Green Chemistry Association")
    assert len([line for line in answer.answer.splitlines() if line.startswith("- ")]) <= 2


GENERIC_LISTS = {
    "en": "Which incubators and accelerators are there in Milan?",
    "it": "Quali incubatori e acceleratori ci sono a Milano?",
    "de": "Welche Inkubatoren und Acceleratoren gibt es in Mailand?",
    "fr": "Quels incubateurs et accélérateurs y a-t-il à Milan ?",
    "es": "¿Qué incubadoras y aceleradoras hay en Milán?",
    "zh": "米兰有哪些孵化器和加速器？",
}


def test_a_list_of_hubs_without_a_sector_is_the_same_in_every_language(bot: Bot) -> None:
    """No sector named: the hubs of that kind in that place, in the same order whatever the language."""
    first = {lang: [h.id for h in bot.answer(q, lang=lang).hubs[:3]] for lang, q in GENERIC_LISTS.items()}
    assert len({tuple(ids) for ids in first.values()}) == 1, first
    hubs = bot.answer(GENERIC_LISTS["en"]).hubs
    assert hubs and all(h.province == "MI" and h.type in ("incubator", "accelerator") for h in hubs)


@pytest.mark.parametrize("question", ["Which fintech accelerators are there in Milan?",
                                      "米兰有哪些金融科技加速器？"])
def test_a_sector_named_with_a_kind_of_hub_ranks_the_hubs_of_that_sector_first(bot: Bot, question: str) -> None:
    hubs = bot.answer(question).hubs
    assert hubs and any("fintech" in " ".join(h.sectors).lower() for h in hubs[:2]), [h.name for h in hubs]


@pytest.mark.parametrize("question", ["我们是一家机器人公司，想在伦巴第设立研发中心，应该选在哪里？",
                                      "We are a robotics company and want to open an R&D centre in Lombardy: where?"])
def test_research_and_development_names_no_sector_so_robotics_hubs_fill_the_list(bot: Bot, question: str) -> None:
    """"研发" (R&D) and "一家" (a firm) are words of any such question: left in, they pulled generic incubators into a
    robotics company's list."""
    hubs = bot.answer(question).hubs
    assert len(hubs) >= 5 and all(any(w in " ".join(h.sectors).lower() for w in ("robot", "mechatron", "manufactur"))
                                  for h in hubs[:5]), [h.name for h in hubs]


@pytest.mark.parametrize("question", ["We are a robotics company and want to open an R&D centre in Lombardy: where?",
                                      "我们是一家机器人公司，想在伦巴第设立研发中心，应该选在哪里？",
                                      "Wir sind ein Robotikunternehmen und wollen in der Lombardei forschen. Wo?"])
def test_a_sector_whose_hubs_share_an_s3_area_gets_that_area(bot: Bot, question: str) -> None:
    """"Robotics" is close to no area's description; the robotics and mechatronics hubs are all in advanced
    manufacturing, so the advice names it and its cluster, in every language."""
    answer = bot.answer(question)
    lead = first_sentence(answer.answer)
    assert "Manifatturiero avanzato" in lead, answer.answer
    assert any(c.source_id.startswith("s3:manifatturiero-avanzato#") for c in answer.citations)
    # the cluster by the acronym it goes by, without the English description after its name
    assert "AFIL – Lombardy Intelligent Factory Association" in lead and "cluster for advanced" not in lead, lead


@pytest.mark.parametrize("question", ["We produce cosmetics and want to set up in Lombardy. Where?",
                                      "We are a fintech company; where in Lombardy should we locate?"])
def test_a_sector_whose_hubs_share_no_area_gets_none(bot: Bot, question: str) -> None:
    assert not any(c.source_id.startswith("s3:") for c in bot.answer(question).citations)


@pytest.mark.parametrize(("question", "name"), [
    ("Nous fabriquons des dispositifs médicaux : où installer notre R&D en Lombardie ?",
     "Industrie de la santé (Industria della salute)"),
    ("Wir stellen Medizinprodukte her: Wo in der Lombardei sollten wir unsere Forschung ansiedeln?",
     "Gesundheitswirtschaft (Industria della salute)"),
    ("Produciamo dispositivi medici: dove insediare la nostra R&S in Lombardia?", "Industria della salute")])
def test_an_s3_area_is_named_in_the_readers_language_with_its_official_name(bot: Bot, question: str,
                                                                            name: str) -> None:
    assert name in first_sentence(bot.answer(question).answer)


@pytest.mark.parametrize("question", ["伦巴第智慧专业化战略（S3）的重点领域有哪些？",
                                      "What are the specialisation areas of Lombardy's S3 strategy?",
                                      "Welche sind die lombardischen Technologiecluster?"])
def test_a_question_for_a_whole_set_is_led_by_the_record_that_presents_it_then_names_every_member(
        bot: Bot, question: str) -> None:
    """The S3 areas: the strategy's overview, then the 7 areas (the Chinese answer led with the Smart Cities driver,
    one record among the others). The clusters: the Region's statement of the 9, then the 9."""
    cited = [c.source_id.split("#")[0] for c in bot.answer(question).citations]
    assert cited[0] in ("s3:overview", "fact:technology-clusters-1"), cited
    assert len(set(cited[1:])) == (7 if cited[0] == "s3:overview" else 9), cited


@pytest.mark.parametrize("question", ["How many international students study at Lombard universities?",
                                      "伦巴第大学有多少国际学生？"])
def test_of_two_figures_of_the_same_measure_the_newer_answers(bot: Bot, question: str) -> None:
    """14,518 in 2017/18 and 22,847 in 2023/24 both match: the investor is told the current one first."""
    answer = bot.answer(question)
    assert answer.citations[0].source_id.startswith("fact:human-capital-3#"), answer.answer


@pytest.mark.parametrize("question", ["Wie hoch ist das Bruttoinlandsprodukt der Lombardei?",
                                      "伦巴第大区的国内生产总值是多少？", "What is Lombardy's gross domestic product?"])
def test_gdp_asked_in_words_is_answered_with_the_latest_gdp_not_gdp_per_head_or_value_added(bot: Bot,
                                                                                           question: str) -> None:
    """The long form ("Bruttoinlandsprodukt") reads as the sources' "BIP"; GDP per head, of the same year, is another
    measure, in every language."""
    answer = bot.answer(question)
    assert answer.citations[0].source_id.startswith("fact:economy-1#"), answer.answer


def test_follow_up_website_is_the_one_of_the_organisation_the_last_answer_named(bot: Bot) -> None:
    """"Their website?" after an answer about AFIL: AFIL's, whatever else the earlier question matches."""
    history = [{"role": "user", "content": "Which cluster works on advanced manufacturing and Industry 4.0?"},
               {"role": "assistant", "content": "That is AFIL, the Lombard cluster for the intelligent factory."}]
    answer = bot.answer("Et leur site web ?", history, lang="fr")
    assert "afil.it" in first_sentence(answer.answer), answer.answer


@pytest.mark.parametrize("question", [
    "We make rail components and want to set up near Brescia. Which cluster and which hubs can help us?",
    "Produciamo componenti ferroviari e vogliamo insediarci vicino a Brescia: quale cluster e quali hub possono "
    "aiutarci?",
])
def test_a_cluster_question_that_also_seeks_a_place_gets_the_advice_with_its_hubs(bot: Bot, question: str) -> None:
    answer = bot.answer(question)
    assert answer.intent == "where_to_locate" and answer.hubs, answer.intent
    assert bot.answer("Which cluster covers mobility?").intent == "cluster"


@pytest.mark.parametrize(("question", "lang"), [("Steuern?", "de"), ("Stipendi?", "it"), ("¿Impuestos?", "es"),
                                                ("Salaires ?", "fr"), ("Incubatori Bergamo?", "it")])
def test_a_one_or_two_word_question_is_answered_in_its_language(bot: Bot, question: str, lang: str) -> None:
    """Too short for letter statistics: the words only one language file uses say the language."""
    assert bot.answer(question).language == lang


def test_a_sector_no_hub_fits_gets_no_off_sector_hubs_and_a_lead_that_says_so(bot: Bot) -> None:
    """A data centre fits no S3 area and no hub in the sources: no oncology institute padding the table, and the
    first sentence does not promise a list below."""
    answer = bot.answer("Ich möchte ein Rechenzentrum bauen. Welche Region in der Lombardei ist geeignet?")
    assert not any("oncology" in h.sectors for h in answer.hubs), [h.name for h in answer.hubs]
    if not answer.hubs:
        assert answer.answer.startswith(language("de")["phrases"]["locate_lead_nothing"])


@pytest.mark.parametrize("question", ["Quanto costa affittare un capannone vicino a Bergamo?",
                                      "How much is office rent in Milan?"])
def test_a_rent_question_is_declined_with_the_agencys_site_scouting_offer(bot: Bot, question: str) -> None:
    """No rents in the sources, but the agency helps find a site: that offer is quoted, then the contact."""
    answer = bot.answer(question)
    assert answer.refused and answer.intent == "decline_real_estate", answer.intent
    cited = [c.source_id.split("#")[0] for c in answer.citations]
    assert cited[:1] == bot.retriever.with_role("site_scouting") and "info@investinlombardy.it" in answer.answer
