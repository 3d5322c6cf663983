"""The question's language, and the bot's own fixed phrases in each supported language."""

import threading
from functools import lru_cache

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

SUPPORTED = ("en", "it", "de", "fr", "es", "zh")
# Detection is restricted to languages investors plausibly write in; an unsupported one gets English phrases.
CANDIDATES = [*SUPPORTED, "pt", "nl", "ja", "ko", "ru", "ar", "pl"]
# For a language model's instructions: it answers in any of these, not only in the phrases' languages.
LANGUAGE_NAMES = {"en": "English", "it": "Italian", "de": "German", "fr": "French", "es": "Spanish",
                  "zh": "Chinese (simplified)", "pt": "Portuguese", "nl": "Dutch", "ja": "Japanese", "ko": "Korean",
                  "ru": "Russian", "ar": "Arabic", "pl": "Polish"}

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "lead": "Here is what the sources say:",
        "more": "Also relevant:",
        "hubs": "Innovation centres that match:",
        "no_hubs": "The sources list no innovation centre in that place; here are the nearest ones that fit.",
        "hub_cols": "Name | Type | City | Focus | Location",
        "s3_area": "S3 specialisation area:",
        "clusters": "Technology cluster to contact:",
        "talent": "Talent: universities and ITS academies",
        "scouting": "Site scouting and contact:",
        "approx": "approximate (city level)",
        "exact": "address",
        "sources": "Sources",
        "refusal": "I can only answer questions about investing and innovation in Lombardy from Invest in Lombardy's "
                   "material, and I could not find a reliable answer to this. Please contact the agency:",
        "injection": "I can't do that. I only answer questions about investing and innovation in Lombardy. "
                     "For anything else, please contact the agency:",
        "quoted": "",
        "uncertain": "(marked as uncertain in the sources)",
    },
    "it": {
        "lead": "Ecco cosa dicono le fonti:",
        "more": "Altre informazioni utili:",
        "hubs": "Centri di innovazione pertinenti:",
        "no_hubs": "Le fonti non elencano centri di innovazione in quel luogo; ecco i più vicini pertinenti.",
        "hub_cols": "Nome | Tipo | Città | Settori | Posizione",
        "s3_area": "Area di specializzazione S3:",
        "clusters": "Cluster tecnologico da contattare:",
        "talent": "Talenti: università e ITS Academy",
        "scouting": "Ricerca di siti e contatti:",
        "approx": "approssimativa (livello città)",
        "exact": "indirizzo",
        "sources": "Fonti",
        "refusal": "Posso rispondere solo a domande su investimenti e innovazione in Lombardia, sulla base dei "
                   "materiali di Invest in Lombardy, e non ho trovato una risposta affidabile. Contatta l'agenzia:",
        "injection": "Non posso farlo. Rispondo solo a domande su investimenti e innovazione in Lombardia. "
                     "Per tutto il resto contatta l'agenzia:",
        "quoted": "(citazioni dalle fonti originali)",
        "uncertain": "(segnalato come incerto nelle fonti)",
    },
    "de": {
        "lead": "Das sagen die Quellen (zitiert im Original):",
        "more": "Ebenfalls relevant:",
        "hubs": "Passende Innovationszentren:",
        "no_hubs": "Die Quellen nennen dort kein Innovationszentrum; hier die nächstgelegenen passenden.",
        "hub_cols": "Name | Typ | Stadt | Schwerpunkte | Lage",
        "s3_area": "S3-Spezialisierungsbereich:",
        "clusters": "Technologiecluster als Ansprechpartner:",
        "talent": "Talente: Universitäten und ITS-Akademien",
        "scouting": "Standortsuche und Kontakt:",
        "approx": "ungefähr (Stadtebene)",
        "exact": "Adresse",
        "sources": "Quellen",
        "refusal": "Ich beantworte nur Fragen zu Investitionen und Innovation in der Lombardei auf Grundlage der "
                   "Unterlagen von Invest in Lombardy und habe dazu keine verlässliche Antwort gefunden. "
                   "Bitte wenden Sie sich an die Agentur:",
        "injection": "Das kann ich nicht tun. Ich beantworte nur Fragen zu Investitionen und Innovation in der "
                     "Lombardei. Für alles andere wenden Sie sich bitte an die Agentur:",
        "quoted": "",
        "uncertain": "(in den Quellen als unsicher gekennzeichnet)",
    },
    "fr": {
        "lead": "Voici ce que disent les sources (citées dans leur langue d'origine) :",
        "more": "Également utile :",
        "hubs": "Centres d'innovation correspondants :",
        "no_hubs": "Les sources ne citent aucun centre d'innovation à cet endroit ; voici les plus proches.",
        "hub_cols": "Nom | Type | Ville | Secteurs | Localisation",
        "s3_area": "Domaine de spécialisation S3 :",
        "clusters": "Cluster technologique à contacter :",
        "talent": "Talents : universités et ITS Academy",
        "scouting": "Recherche de sites et contact :",
        "approx": "approximative (niveau ville)",
        "exact": "adresse",
        "sources": "Sources",
        "refusal": "Je réponds uniquement aux questions sur l'investissement et l'innovation en Lombardie, à partir "
                   "des documents d'Invest in Lombardy, et je n'ai pas trouvé de réponse fiable. "
                   "Veuillez contacter l'agence :",
        "injection": "Je ne peux pas faire cela. Je réponds uniquement aux questions sur l'investissement et "
                     "l'innovation en Lombardie. Pour tout le reste, veuillez contacter l'agence :",
        "quoted": "",
        "uncertain": "(signalé comme incertain dans les sources)",
    },
    "es": {
        "lead": "Esto es lo que dicen las fuentes (citadas en su idioma original):",
        "more": "También es útil:",
        "hubs": "Centros de innovación que encajan:",
        "no_hubs": "Las fuentes no citan ningún centro de innovación en ese lugar; estos son los más cercanos.",
        "hub_cols": "Nombre | Tipo | Ciudad | Sectores | Ubicación",
        "s3_area": "Área de especialización S3:",
        "clusters": "Clúster tecnológico de contacto:",
        "talent": "Talento: universidades y academias ITS",
        "scouting": "Búsqueda de emplazamientos y contacto:",
        "approx": "aproximada (nivel de ciudad)",
        "exact": "dirección",
        "sources": "Fuentes",
        "refusal": "Solo respondo preguntas sobre inversión e innovación en Lombardía a partir de los materiales de "
                   "Invest in Lombardy, y no he encontrado una respuesta fiable. Por favor, contacte con la agencia:",
        "injection": "No puedo hacer eso. Solo respondo preguntas sobre inversión e innovación en Lombardía. "
                     "Para todo lo demás, contacte con la agencia:",
        "quoted": "",
        "uncertain": "(marcado como incierto en las fuentes)",
    },
    "zh": {
        "lead": "以下是资料来源中的内容（按原文引用）：",
        "more": "其他相关信息：",
        "hubs": "相关的创新中心：",
        "no_hubs": "资料中没有该地的创新中心；以下是最近的相关中心。",
        "hub_cols": "名称 | 类型 | 城市 | 领域 | 位置",
        "s3_area": "S3 专业化领域：",
        "clusters": "可联系的技术集群：",
        "talent": "人才：大学与 ITS 学院",
        "scouting": "选址与联系：",
        "approx": "大致位置（城市级）",
        "exact": "地址",
        "sources": "来源",
        "refusal": "我只根据 Invest in Lombardy 的资料回答有关伦巴第大区投资与创新的问题，未能找到可靠的答案。"
                   "请联系该机构：",
        "injection": "我无法这样做。我只回答有关伦巴第大区投资与创新的问题。其他问题请联系该机构：",
        "quoted": "",
        "uncertain": "（资料中标注为不确定）",
    },
}


_LOADING = threading.Lock()


def _identifier() -> LanguageIdentifier:
    # lru_cache alone lets every thread that arrives before the first load finishes load the model again (about
    # 0.4 s of CPU each): 20 first questions at once waited 7 s
    with _LOADING:
        return _load_identifier()


@lru_cache(maxsize=1)
def _load_identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(CANDIDATES)
    return identifier


def detect_language(text: str, fallback: str = "en") -> str:
    """ISO 639-1 code of the text's language; `fallback` when the text is too short to tell."""
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return "zh"  # langid confuses short Chinese with Japanese; kana would say Japanese
    lang, prob = _identifier().classify(text)
    if len(text.split()) < 4 and prob < 0.9:
        return fallback
    return lang


def phrases(lang: str) -> dict[str, str]:
    return PHRASES.get(lang, PHRASES["en"])
