"""The advisor's sections for a where-to-locate question, besides the hubs: the S3 area that fits the investor's
sector and its technology cluster (with its website), universities and ITS academies for talent, and the agency's
site-scouting offer. Every line is a sentence quoted from the corpus, chosen by meaning, not by a keyword table."""

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.find.gazetteer import Place, find_place
from bot.find.hubs import HubSearch
from bot.find.retrieve import Hit, HybridRetriever
from bot.tuning import AREA_MARGIN, FIT_WINDOW, NEARBY_BONUS, QUESTION_SHARE

TALENT_PER_KIND = 2
CLUSTERS_SHOWN = 2
# The records the data marks as the agency's contact for investors (quoted whenever the bot declines) and its offer
# for investors looking for a site (the advisor's last section).
AGENCY_CONTACT = "agency_contact"
SITE_SCOUTING = "site_scouting"


@dataclass
class Advice:
    area: list[tuple[Hit, str]] = field(default_factory=list)
    clusters: list[tuple[Hit, str]] = field(default_factory=list)
    talent: list[tuple[Hit, str]] = field(default_factory=list)
    scouting: list[tuple[Hit, str]] = field(default_factory=list)

    def quoted(self) -> list[tuple[Hit, str]]:
        return [*self.area, *self.clusters, *self.talent, *self.scouting]


class Advisor:
    """Every line is a record's summary in the investor's language, chosen by meaning."""

    def __init__(self, retriever: HybridRetriever, hub_search: HubSearch, geo_dir: Path) -> None:
        self.retriever = retriever
        self.hub_search = hub_search
        self.geo_dir = geo_dir

    @cached_property
    def _clusters_by_area(self) -> dict[str, list[str]]:
        """S3 area source id -> the clusters linked to it in the data."""
        out: dict[str, list[str]] = {}
        for sid, record in self.retriever.records_of("cluster").items():
            for area in record.get("s3_areas", []):
                out.setdefault(area, []).append(sid)
        return out

    @cached_property
    def _provinces(self) -> dict[str, str | None]:
        """Province of each university and ITS academy, from its city."""
        out = {}
        for kind in ("university", "its"):
            for sid, record in self.retriever.records_of(kind).items():
                place = find_place(str(record.get("city") or ""), self.geo_dir)
                out[sid] = place.province if place else None
        return out

    @cached_property
    def _area_evidence(self) -> dict[str, np.ndarray]:
        """Each S3 area's summaries and its clusters' summaries, in every language."""
        out = {}
        for area in self.hub_search.area_sources:
            ids = [d.id for sid in [area, *self._clusters_by_area.get(area, [])]
                   for d in self.retriever.by_source.get(sid, []) if d.metadata.get("summary_of")]
            out[area] = self.retriever.chunk_vectors(ids)
        return out

    def best_area(self, query_vector: list[float]) -> str | None:
        """The S3 area whose summaries, or whose clusters' summaries, in any language come closest in meaning to
        the question, when the choice is clear (ahead of the next area by AREA_MARGIN). Otherwise None: a fintech
        or a cosmetics question has no S3 area, and naming one would mislead. Comparing with the summaries in
        every language lets a question meet the text in its own language, so the same question gets the same
        area in all six."""
        query = np.asarray(query_vector, dtype=np.float32)
        scores = {area: float(np.max(vectors @ query)) for area, vectors in self._area_evidence.items()
                  if len(vectors)}
        if len(scores) < 2:
            return None
        first, second = sorted(scores, key=scores.get, reverse=True)[:2]
        return first if scores[first] - scores[second] >= AREA_MARGIN else None

    def sector_vector(self, query_vector: list[float], area: str | None) -> list[float]:
        """What hubs, clusters and talent are matched against: the question and, mostly, its S3 area's description
        when there is one. The area is the same whatever the question's language, so the same hubs come up in
        English, Italian or German, and "where" in the question does not make an address line the best reason."""
        if area is None:
            return query_vector
        area_vector = self.hub_search.area_vectors[self.hub_search.area_sources.index(area)]
        return (QUESTION_SHARE * np.asarray(query_vector, dtype=np.float32)
                + (1 - QUESTION_SHARE) * area_vector).tolist()

    def _fit(self, source_id: str, query: np.ndarray) -> float:
        """How well a record fits the sector: its best-fitting English summary sentence (the one that names its
        field says more than the whole record)."""
        _, vectors = self.retriever.sentences.get(f"{source_id}#en", ([], None))
        return float(np.max(vectors @ query)) if vectors is not None and len(vectors) else -1.0

    def _ranked(self, ids: list[str], query: np.ndarray, place: Place | None) -> list[str]:
        """Best fit first, and only those within FIT_WINDOW of the best: fewer rather than off-sector."""
        def score(sid: str) -> float:
            nearby = place is not None and self._provinces.get(sid) == place.province
            return self._fit(sid, query) + (NEARBY_BONUS if nearby else 0.0)
        scored = sorted(((score(sid), sid) for sid in ids), reverse=True)
        if not scored:
            return []
        return [sid for value, sid in scored if value >= scored[0][0] - FIT_WINDOW]

    def advise(self, sector_vector: list[float], place: Place | None, area: str | None, lang: str) -> Advice:
        query = np.asarray(sector_vector, dtype=np.float32)
        advice = Advice()
        if area:
            advice.area = self.retriever.summary_lines([area], lang)
            clusters = self._ranked(self._clusters_by_area.get(area, []), query, None)[:CLUSTERS_SHOWN]
            advice.clusters = self.retriever.summary_lines(clusters, lang)
        advice.talent = self.talent(query, place, area, lang)
        advice.scouting = self.scouting(lang)
        return advice

    def scouting(self, lang: str) -> list[tuple[Hit, str]]:
        """The agency's offer (scouting, sites, staff) and its address for investors."""
        return self.retriever.summary_lines(
            self.retriever.with_role(SITE_SCOUTING) + self.retriever.with_role(AGENCY_CONTACT), lang)

    def talent(self, query: np.ndarray, place: Place | None, area: str | None, lang: str) -> list[tuple[Hit, str]]:
        """Universities and ITS academies for the sector (those in the investor's province first among equals).
        When the sector is unclear, only the universities in the province named; when neither is clear, none. An
        academy is proposed only when the sources state its field: the field is what has to fit."""
        if area is None and place is None:
            return []
        universities = [sid for sid in self.retriever.records_of("university")
                        if area is not None or (place is not None and self._provinces.get(sid) == place.province)]
        chosen = self._ranked(universities, query, place)[:TALENT_PER_KIND]
        if area is not None:
            academies = [sid for sid, r in self.retriever.records_of("its").items() if r.get("field")]
            chosen += self._ranked(academies, query, place)[:TALENT_PER_KIND]
        return self.retriever.summary_lines(chosen, lang)
