"""One answer builder per intent (bot/route/intents.yaml), each writing in the question's language from the records'
typed facts and summaries: the answer to the question first, then a few supporting lines, then the sections the
intent has. Every sentence is a record's own text or a phrase of the language file filled with names, numbers and
URLs copied from the records; nothing is computed.

An answer goes out only if it answers what was asked: a count question needs a number, a website question that
website, a where question a place. Otherwise the investor is told, politely, that the sources do not give it.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path

import numpy as np

from bot.find.advisor import AGENCY_CONTACT, Advisor
from bot.find.gazetteer import Place, distance_km
from bot.find.hubs import HubSearch, hub_ref
from bot.find.retrieve import Hit, HybridRetriever, Retrieval
from bot.languages import language
from bot.route.router import Route
from bot.tuning import (
    FUSED_TIE,
    HUB_VOTE_AGREE,
    HUB_VOTE_MIN,
    HUB_VOTE_SHOWN,
    SAME_FIGURE,
    SECTOR_FLOOR,
    SUPPORT_WINDOW,
)
from bot.types import Composition, HubRef
from bot.write.compose import PROSE_KINDS, Writer, compose_answer, compose_refusal
from index.sentences import split_sentences

HUBS_SHOWN = 6
NEAR_KM = 25  # "near <town>": hubs within this great-circle distance
CLOSEST_SHOWN = 3  # "which one is closest?": the closest and the next two, by distance
SUPPORTING_RECORDS = 2  # records quoted after the one that answers
PAGE_WINS_WITHIN = 3  # a page (a staff file) answers instead of the records when none of these first hits is one
_DIGIT = re.compile(r"\d")
_URL = re.compile(r"https?://")


@dataclass
class Question:
    """What the builders read: the question, its search text (with the earlier turn for a follow-up), language,
    retrieval, the place it names, and the hubs shown in the earlier turn (for "which one is closest?")."""

    text: str
    query: str
    lang: str
    found: Retrieval
    place: Place | None = None
    named: list[str] = field(default_factory=list)  # records the question names, in order of mention
    earlier_hubs: list[str] | None = None
    sector: str = ""  # the words that may name its sector (bot/route/slots.py): hubs are ranked by how they fit it

    def asks(self, what: str) -> bool:
        patterns = language(self.lang).get("asks", {}).get(what, [])
        return any(re.search(p, self.text.casefold()) for p in patterns)

    def hub_types(self) -> tuple[str, ...]:
        """The kinds of hub the question asks for ("incubators", "parchi scientifici"), if any."""
        words = language(self.lang).get("hub_type_words", {})
        return tuple(t for t, patterns in words.items() if any(re.search(p, self.text.casefold()) for p in patterns))


@dataclass
class Built:
    composition: Composition
    refused: bool = False
    evidence: list[Hit] | None = None


class Builders:
    def __init__(self, retriever: HybridRetriever, geo_dir: Path) -> None:
        self.retriever = retriever
        self.geo_dir = geo_dir
        self.contact_id = next(iter(retriever.with_role(AGENCY_CONTACT)), None)

    # Built on first use: a question about a cluster or a figure needs neither, and `investbot ask` starts faster.
    @cached_property
    def hub_search(self) -> HubSearch:
        return HubSearch(self.retriever, self.geo_dir)

    @cached_property
    def advisor(self) -> Advisor:
        return Advisor(self.retriever, self.hub_search, self.geo_dir)

    def build(self, route: Route, q: Question) -> Built:
        spec = route.spec
        builder = spec.get("builder", "free_text")
        if q.earlier_hubs and q.place and builder not in ("decline", "refuse", "injection"):
            return self.closest(q)  # "which one is closest to Como?" after a list of hubs
        if builder == "records":
            return self.records(q, spec["kinds"], spec.get("lists"), spec.get("rank", "retrieval"))
        if builder == "decline":
            return self.decline(q, language(q.lang)["topics"][spec["topic"]], offer=spec.get("offer"))
        if builder in ("refuse", "injection"):
            return Built(compose_refusal(q.lang, "injection" if builder == "injection" else "off_topic",
                                         self.contact(q.lang)), refused=True)
        return getattr(self, builder)(q)

    def contact(self, lang: str) -> tuple[Hit, str] | None:
        """The agency's contact for investors, in the investor's language."""
        return self.retriever.summary_line(self.contact_id, lang) if self.contact_id else None

    # --- declines ---------------------------------------------------------------------------------------------

    def decline(self, q: Question, topic: str, template: str = "decline", offer: str | None = None) -> Built:
        """Not in the sources: say so, say what they do cover, and give the agency's contact. With `offer` (a
        record role), the agency's offer that comes closest is quoted first: no rents, but help finding a site."""
        writer = Writer(q.lang)
        writer.lead(writer.words[template].format(topic=topic, what=topic))
        writer.lines += [writer.words["covered"], "", writer.words["ask_agency"], ""]
        quoted = (self.retriever.with_role(offer) if offer else []) + ([self.contact_id] if self.contact_id else [])
        for line in self.retriever.summary_lines(quoted, q.lang):
            writer.lines += [f"> {writer.cite(*line)}", ""]
        return Built(writer.done(), refused=True)

    def not_given(self, q: Question, what: str) -> Built:
        return self.decline(q, language(q.lang)["what"][what], template="not_given")

    # --- records: clusters, S3, competence centres, universities, ITS, key figures ------------------------------

    def _record_hits(self, q: Question, kinds: list[str], rank: str = "retrieval") -> list[Hit]:
        """The records the question names, then those of these kinds that retrieval found, each as its summary in
        q.lang (with that summary's similarity to the question), in retrieval's order or, with rank "meaning", by
        that similarity. Retrieval weighs every chunk of a record, in every language, and its words: "quel cluster
        s'occupe de l'agroalimentaire" finds the agri-food cluster first, where the French cluster summaries alone,
        alike in build, put life sciences first (public set 90.2 % by summary similarity, 91.2 % in retrieval's
        order). A key figure's summary states one figure: by meaning, R&D spending in Italian and Chinese leads with
        the R&D fact (public set 93.9 -> 94.2 % with key figures ranked by meaning)."""
        named = [sid for sid in q.named if sid in self.retriever.records]  # what the question names, any kind
        found = [h.source_id for h in q.found.hits if h.doc.metadata.get("kind") in kinds]
        candidates = [sid for sid in dict.fromkeys(named + found) if self.retriever.summary(sid, q.lang)]
        if not candidates:
            return []
        docs = [self.retriever.summary(sid, q.lang) for sid in candidates]
        similarity = self.retriever.chunk_vectors([d.id for d in docs]) @ np.asarray(q.found.query_vector)
        hits = [Hit(doc, 1.0 if sid in named else 0.0, float(sim))
                for sid, doc, sim in zip(candidates, docs, similarity, strict=True)]
        if rank == "meaning":
            return sorted(hits, key=lambda h: (-h.score, -h.similarity))
        fused: dict[str, float] = {}
        for h in q.found.hits:
            fused.setdefault(h.source_id, h.score)
        ranked = sorted(hits, key=lambda h: (-h.score, -fused.get(h.source_id, 0.0)))
        # a near-tie in retrieval (a shared word, "vida" in "ambientes de vida") goes to the closer meaning
        for i in range(1, len(ranked)):
            a, b = ranked[i - 1], ranked[i]
            if a.score == b.score and fused.get(b.source_id, 0.0) >= fused.get(a.source_id, 0.0) * (1 - FUSED_TIE) \
                    and b.similarity > a.similarity:
                ranked[i - 1], ranked[i] = b, a
        return ranked

    def _latest(self, found: list[Hit]) -> Hit:
        """The answering record: the best match, unless a more recent figure of the same measure matches about as
        well (14,518 international students in 2017/18 against 22,847 in 2023/24: the investor wants the latter).
        Same measure: the two facts' summaries are near-paraphrases of each other (SAME_FIGURE), compared in
        English, so that every language makes the same choice (Chinese summaries all lie close together: GDP
        per head passed for GDP)."""
        first = found[0]
        year = self.retriever.records.get(first.source_id, {}).get("year")
        if not year or first.similarity is None:
            return first
        newer = [h for h in found if (self.retriever.records.get(h.source_id, {}).get("year") or 0) > year
                 and h.similarity is not None and h.similarity >= first.similarity - SUPPORT_WINDOW]
        if not newer:
            return first
        vectors = self.retriever.chunk_vectors([self.retriever.summary(h.source_id, "en").id for h in [first, *newer]])
        same = [(self.retriever.records[h.source_id]["year"], similarity, h)
                for h, similarity in zip(newer, vectors[1:] @ vectors[0], strict=True) if similarity >= SAME_FIGURE]
        return max(same, key=lambda s: s[:2])[2] if same else first  # the newest; of one year, the closest

    def members(self, lists: str | None) -> list[str]:
        """The records a "which are the …?" question about the whole set names: the S3 areas (the S3 records with
        an official name; the driver and the regional priorities have none) or every record of a kind (the 9
        clusters)."""
        if lists == "s3_area":
            return [sid for sid, r in self.retriever.records_of("s3").items() if r.get("name_it")]
        return list(self.retriever.records_of(lists)) if lists else []

    def records(self, q: Question, kinds: list[str], lists: str | None = None, rank: str = "retrieval") -> Built:
        found = self._record_hits(q, kinds, rank)
        top = q.found.hits[:PAGE_WINS_WITHIN]
        page_first = bool(top) and top[0].doc.metadata.get("kind") in PROSE_KINDS \
            and top[0].doc.metadata.get("language") == q.lang
        if not found or (page_first and not q.named and not any(h.doc.metadata.get("kind") in kinds for h in top)):
            return self.free_text(q)  # nothing of that kind, or only a page in the reader's language says it
        writer = Writer(q.lang)
        first = self._latest(found)
        specific = q.named or q.asks("website") or q.asks("where") or q.asks("count")
        members = [] if specific or not q.asks("list") else self.members(lists)
        # the whole set was asked for, not one member ("… for green chemistry?"): the record presenting the set leads
        if members and first.source_id not in members:
            first = next((hit for hit, _ in self.retriever.summary_lines(
                self.retriever.with_role(f"overview:{lists}"), q.lang)), first)
        if q.asks("website"):
            with_site = [h for h in found if self.retriever.records.get(h.source_id, {}).get("website")]
            if not with_site:
                return self.not_given(q, "website")
            first = with_site[0]
            record = self.retriever.records[first.source_id]
            writer.lead(writer.words["website_lead"].format(name=record_name(record, q.lang),
                                                            url=record["website"]), first)
        elif q.asks("count"):
            counted = [h for h in found if _DIGIT.search(first_sentence(h.doc.page_content))]
            if not counted:
                return self.not_given(q, "count")
            first = self._latest(counted)
        if not writer.lines:
            writer.lead(first.doc.page_content, first)
        # more records only for a question about several ("which clusters…?"), and only as close as the first
        others = [] if specific else [h for h in found if h.source_id != first.source_id and h.similarity
                                      and first.similarity and h.similarity >= first.similarity - SUPPORT_WINDOW]
        others = others[:SUPPORTING_RECORDS]
        if members and first.source_id not in members:  # the set itself was asked about: name each member
            named = [(self.retriever.summary_hit(sid, q.lang), member_name(self.retriever.records[sid], q.lang))
                     for sid in members if sid in self.retriever.records]
            writer.bullets([(hit, name) for hit, name in named if hit])
            return Built(writer.done(), evidence=[first, *(hit for hit, _ in named if hit), *q.found.hits])
        writer.bullets([(h, first_sentence(h.doc.page_content)) for h in others])
        return Built(writer.done(), evidence=[first, *others, *q.found.hits])

    def contact_agency(self, q: Question) -> Built:
        writer = Writer(q.lang)
        lines = self.advisor.scouting(q.lang)
        contact = self.contact(q.lang)
        ordered = [contact] + [line for line in lines if line != contact] if contact else lines
        if not ordered:
            return self.free_text(q)
        writer.lead(ordered[0][1], ordered[0][0])
        writer.bullets(ordered[1:])
        return Built(writer.done(), evidence=[hit for hit, _ in ordered])

    # --- hubs and where to locate ----------------------------------------------------------------------------

    def _hubs(self, q: Question, sector: list[float], area: str | None) -> tuple[list[tuple[Hit, HubRef]], bool]:
        """Hubs of the kind asked for, in the place the question names (a province or area, or near a town), ranked
        by how well they fit its sector (those in its S3 area first); where the place has none, the nearest ones
        that fit."""
        if q.sector:
            # Lombardy-wide and without an area, only hubs that fit; in a place the investor named, the best there
            # (an area's hubs borrow its meaning, which lifts their fit above the floor); a hub named, always
            floor = SECTOR_FLOOR if area is None and q.place is None and not q.named else 0.0
            search = partial(self.hub_search.search, sector=q.query, sector_vector=sector, prefer_area=area,
                             hub_type=q.hub_types(), floor=floor)
        else:  # "incubators in Milan": by distance and name, the same in every language
            search = partial(self.hub_search.search, hub_type=q.hub_types())
        place = q.place
        if place is None:
            matches = search(limit=HUBS_SHOWN)
        elif place.kind == "municipality":
            matches = search(near=place, km=NEAR_KM, limit=HUBS_SHOWN)
        else:
            matches = search(province=place.province, limit=HUBS_SHOWN)
        no_hub_here = place is not None and not matches
        if no_hub_here:
            matches = search(near=place, limit=3)
        in_area = [m for m in matches if area in self.hub_search.records[m.hub.id].get("s3_areas", [])]
        matches = in_area or matches  # a sector with an S3 area gets that area's hubs only: fewer, not off-sector
        return [(self.retriever.summary_hit(m.hub.id, q.lang), m.hub) for m in matches], no_hub_here

    def _sector_meaning(self, q: Question) -> list[float]:
        """What the S3 area is chosen by, and hubs and talent are matched to: the question, and as much its sector's
        words alone ("food processing agri-food"), which "research centres" or "hubs" in the question do not pull
        towards another area or kind of hub."""
        if not q.sector:
            return q.found.query_vector
        words = np.asarray(self.retriever.embeddings.embed_query(q.sector), dtype=np.float32)
        both = np.asarray(q.found.query_vector, dtype=np.float32) + words
        return (both / np.linalg.norm(both)).tolist()  # a unit vector, as the cosines and margins assume

    def _area_and_meaning(self, q: Question, advice: bool) -> tuple[str | None, list[float]]:
        """The investor's S3 area (None when unclear; for a list of hubs, also when the question names no sector)
        and the sector's meaning, from which the vector hubs, clusters and talent are matched to is made."""
        meaning = self._sector_meaning(q)
        return (self.advisor.best_area(meaning) if advice or q.sector else None), meaning

    def _area_of(self, hubs: list[tuple[Hit, HubRef]]) -> str | None:
        """The S3 area that most of the best-fitting hubs share (HUB_VOTE_AGREE of the first HUB_VOTE_SHOWN, or all
        of them when only HUB_VOTE_MIN to HUB_VOTE_AGREE fit), when the sector's meaning alone named none.
        "Robotics" is close to no area's description, but the robotics and mechatronics hubs are all in advanced
        manufacturing; a food manufacturer's three hubs are all agri-food. A fintech's or a cosmetics maker's hubs
        share none."""
        records, best = self.hub_search.records, hubs[:HUB_VOTE_SHOWN]
        votes = Counter(a for _, hub in best for a in records[hub.id].get("s3_areas", []))
        area, count = votes.most_common(1)[0] if votes else (None, 0)
        return area if count >= min(HUB_VOTE_AGREE, len(best)) and len(best) >= HUB_VOTE_MIN else None

    def hubs(self, q: Question) -> Built:
        area, meaning = self._area_and_meaning(q, advice=False)
        hubs, no_hub_here = self._hubs(q, self.advisor.sector_vector(meaning, area), area)
        writer = Writer(q.lang)
        if no_hub_here:  # say first that the place has none, then offer the nearest
            writer.lead(writer.words["no_hubs"])
        else:
            where = writer.words["in_place"].format(place=q.place.name) if q.place else ""
            writer.lead(writer.words["hubs_lead"].format(where=where))
        if hubs and q.sector:  # the one that fits best, in a sentence; a list by place and name has no best
            best, _ = hubs[0]
            writer.bullets([(best, first_sentence(best.doc.page_content))])
        writer.hub_table(hubs)
        return Built(writer.done(), evidence=[hit for hit, _ in hubs])

    def closest(self, q: Question) -> Built:
        """"Which one is closest to Como?": the hubs of the earlier answer, by distance to the place."""
        records = [self.hub_search.records[h] for h in q.earlier_hubs if h in self.hub_search.records]
        ranked = sorted(records, key=lambda r: distance_km(q.place.lat, q.place.lon, r["lat"], r["lon"]))
        if not ranked:
            return self.not_given(q, "where")
        writer = Writer(q.lang)
        best = ranked[0]
        hit = self.retriever.summary_hit(best["id"], q.lang)
        writer.lead(writer.words["closest_lead"].format(place=q.place.name, name=best["name"], city=best["city"]),
                    hit)
        hubs = [(self.retriever.summary_hit(r["id"], q.lang), hub_ref(r)) for r in ranked[:CLOSEST_SHOWN]]
        writer.hub_table(hubs)
        return Built(writer.done(), evidence=[h for h, _ in hubs])

    def where_to_locate(self, q: Question) -> Built:
        """The S3 area and cluster for the investor's sector first, then the hubs, talent and site scouting."""
        area, meaning = self._area_and_meaning(q, advice=True)
        hubs, no_hub_here = self._hubs(q, self.advisor.sector_vector(meaning, area), area)
        if area is None and q.sector:
            # the clusters and talent of the area its hubs share; the hubs stay (ranked again with the area's
            # meaning, an automation hub would push the robotics labs out)
            area = self._area_of(hubs)
        advice = self.advisor.advise(self.advisor.sector_vector(meaning, area), q.place, area, q.lang)
        writer = Writer(q.lang)
        clusters = [self.retriever.records.get(hit.source_id, {}) for hit, _ in advice.clusters]
        if area and clusters:
            writer.lead(writer.words["locate_lead"].format(
                area=area_name(self.retriever.records.get(area, {}), q.lang),
                cluster=" / ".join(record_name(c, q.lang) for c in clusters)))
        else:
            writer.lead(writer.words["locate_lead_no_area" if hubs else "locate_lead_nothing"])
        writer.section(writer.words["s3_area"], advice.area)
        writer.section(writer.words["clusters"], advice.clusters)
        writer.hub_table(hubs, no_hub_here)
        writer.section(writer.words["talent"], advice.talent)
        writer.section(writer.words["scouting"], advice.scouting)
        return Built(writer.done(), evidence=[hit for hit, _ in hubs] + [hit for hit, _ in advice.quoted()])

    # --- free text -------------------------------------------------------------------------------------------

    def free_text(self, q: Question) -> Built:
        r = self.retriever
        composed = compose_answer(q.query, q.found.query_vector, q.lang, q.found.hits, r.sentences, r.by_source,
                                  r.idf, r.default_idf)
        return Built(composed, evidence=q.found.hits)


def first_sentence(text: str) -> str:
    return next(iter(split_sentences(text)), text)


def record_name(record: dict, lang: str) -> str:
    """An organisation's name as the investor reads it: the Italian name in Italian; in other languages its
    acronym, which it goes by in every language, and its English name without the description after a dash
    ("AFIL – Lombardy Intelligent Factory Association", not "… – Lombardy technology cluster for advanced
    manufacturing")."""
    if lang == "it" and record.get("name_it"):
        return record["name_it"].split(" (")[0]
    name = record.get("name") or record.get("title", "").split(" – ")[0]
    acronym = record.get("acronym")
    return f"{acronym} – {name}" if acronym and acronym not in name else name


def member_name(record: dict, lang: str) -> str:
    """How a member of a listed set is named: an S3 area by its official name, an organisation by its name."""
    return area_name(record, lang) if record.get("kind") == "s3" else record_name(record, lang)


def area_name(record: dict, lang: str) -> str:
    """An S3 area's name in the reader's language, with its official Italian one: "Gesundheitswirtschaft (Industria
    della salute)"; in Italian the official name alone."""
    official = record.get("name_it") or record.get("title", "").split(": ", 1)[-1]
    local = (record.get("names") or {}).get(lang)
    return f"{local} ({official})" if local and lang != "it" else official