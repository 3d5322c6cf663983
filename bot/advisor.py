"""The advisor's sections for a where-to-locate question, besides the hubs: the S3 area that fits the investor's
sector and its technology cluster (with its website), universities and ITS academies for talent, and the agency's
site-scouting offer. Every line is a sentence quoted from the corpus, chosen by meaning, not by a keyword table."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.gazetteer import Place, find_place
from bot.hubs import HubSearch
from bot.retrieve import Hit, HybridRetriever

TALENT_PER_KIND = 2
CLUSTERS_SHOWN = 2
NEARBY_BONUS = 0.02  # a university or academy in the province the investor names ranks as if this much closer
# The corpus record with the agency's contact for investors, quoted whenever the bot declines…
CONTACT_SOURCE = "fact:where-to-locate-3"
# …and, after its offer for investors looking for a site (scouting, sites, staff), in the advisor's last section.
SCOUTING_SOURCES = ("fact:where-to-locate-4", CONTACT_SOURCE)
AREA_MARGIN = 0.015  # cosine by which the best S3 area must beat the next one (measured on 20 sector questions)
AREA_WITNESSES = 5  # the best-fitting hubs, one of which must be tagged with that area
WEBSITE = "Website:"
_ITALIAN_NAME = re.compile(r"\(([^()]+)\)\s*$")  # "S3 area: Health industry (Industria della salute)"


@dataclass
class Advice:
    area: list[tuple[Hit, str]] = field(default_factory=list)
    clusters: list[tuple[Hit, str]] = field(default_factory=list)
    talent: list[tuple[Hit, str]] = field(default_factory=list)
    scouting: list[tuple[Hit, str]] = field(default_factory=list)

    def quoted(self) -> list[tuple[Hit, str]]:
        return [*self.area, *self.clusters, *self.talent, *self.scouting]

    def sentences(self) -> set[str]:
        return {s for _, s in self.quoted()}

    @property
    def sector_specific(self) -> bool:
        return bool(self.area or self.clusters or self.talent)


class Advisor:
    def __init__(self, retriever: HybridRetriever, hub_search: HubSearch, geo_dir: Path) -> None:
        self.retriever = retriever
        self.hub_search = hub_search
        self.geo_dir = geo_dir

    @cached_property
    def _clusters_by_area(self) -> dict[str, list[str]]:
        """S3 area source id -> the clusters whose record names that area (by its Italian name)."""
        clusters = self.retriever.records_of("cluster")
        out: dict[str, list[str]] = {}
        for area in self.hub_search.area_sources:
            match = _ITALIAN_NAME.search(self.retriever.records.get(area, {}).get("title", ""))
            if match:
                out[area] = [sid for sid, r in clusters.items() if match.group(1) in (r.get("s3_area") or "")]
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

    def _sentences(self, source_id: str) -> Iterator[tuple[Hit, str, np.ndarray]]:
        """The record's indexed sentences, chunk by chunk, each with its chunk and its vector."""
        for doc in self.retriever.by_source.get(source_id, []):
            texts, vectors = self.retriever.sentences.get(doc.id or "", ([], None))
            for text, vector in zip(texts, vectors if texts else [], strict=True):
                yield Hit(doc, 0.0, None), text, vector

    def best_sentence(self, source_id: str, query: np.ndarray) -> tuple[Hit, str, float] | None:
        """The record's sentence closest in meaning to the question, other than its website line (shown apart)."""
        scored = [(hit, text, float(vector @ query)) for hit, text, vector in self._sentences(source_id)
                  if not text.startswith(WEBSITE)]
        return max(scored, key=lambda s: s[2], default=None)

    def best_area(self, query_vector: list[float]) -> str | None:
        """The S3 area (its source id) whose description is closest in meaning to the question, when the choice
        is clear: ahead of the next area by a margin, and carried by one of the hubs that fit the question best.
        Otherwise None: a fintech or a cosmetics question has no S3 area, and naming one would mislead."""
        if len(self.hub_search.area_vectors) < 2:
            return None
        query = np.asarray(query_vector, dtype=np.float32)
        sims = self.hub_search.area_vectors @ query
        first, second = np.argsort(-sims)[:2]
        if sims[first] - sims[second] < AREA_MARGIN:
            return None
        area = self.hub_search.area_sources[int(first)]
        fitting = np.argsort(-self.hub_search.relevance(query_vector))[:AREA_WITNESSES]
        carried = any(area in self.hub_search.hub_area_sources(int(i)) for i in fitting)
        return area if carried else None

    def labelled(self, source_id: str, label: str) -> tuple[Hit, str, np.ndarray] | None:
        """The record's sentence that starts with a label ("Website:"), with its vector."""
        return next((line for line in self._sentences(source_id) if line[1].startswith(label)), None)

    def sector_vector(self, query_vector: list[float], area: str | None) -> list[float]:
        """What hubs, clusters and talent are matched against: half the question, half its S3 area's description
        when there is one. The area is the same whatever the question's language, so the same hubs come up in
        English, Italian or German, and "where" in the question does not make an address line the best reason."""
        if area is None:
            return query_vector
        area_vector = self.hub_search.area_vectors[self.hub_search.area_sources.index(area)]
        return ((np.asarray(query_vector, dtype=np.float32) + area_vector) / 2).tolist()

    def advise(self, sector_vector: list[float], place: Place | None, area: str | None) -> Advice:
        query = np.asarray(sector_vector, dtype=np.float32)
        advice = Advice()
        if area:
            opening = self.first_sentence(area)
            advice.area = [opening] if opening else []
            ranked = sorted(filter(None, (self.best_sentence(c, query) for c in self._clusters_by_area.get(area, []))),
                            key=lambda b: -b[2])
            for hit, sentence, _ in ranked[:CLUSTERS_SHOWN]:
                # the cluster's focus says why it fits; its website is how to reach it
                for line in (self.labelled(hit.source_id, "Focus:") or (hit, sentence),
                             self.labelled(hit.source_id, WEBSITE)):
                    if line:
                        advice.clusters.append(line[:2])
        advice.talent = self.talent(query, place, area)
        advice.scouting = self.scouting()
        return advice

    def scouting(self) -> list[tuple[Hit, str]]:
        """The agency's offer (scouting, sites, staff) and its address for investors."""
        return [line for line in map(self.first_sentence, SCOUTING_SOURCES) if line]

    @cached_property
    def _talent_vectors(self) -> dict[str, np.ndarray]:
        """Each university's first chunk vector: what the record as a whole is about."""
        first = {sid: self.retriever.by_source[sid][0].id for sid in self.retriever.records_of("university")
                 if self.retriever.by_source.get(sid)}
        vectors = self.retriever.chunk_vectors(list(first.values()))
        return dict(zip(first, vectors, strict=True))

    def talent(self, query: np.ndarray, place: Place | None, area: str | None) -> list[tuple[Hit, str]]:
        """Universities and ITS academies for the sector (those in the investor's province first among equals):
        a university by what its record says, an academy by its field. When the sector is unclear, only the
        universities in the province named; when neither is clear, none."""
        if area is None and place is None:
            return []
        out: list[tuple[Hit, str]] = []
        scored = []
        for sid in self.retriever.records_of("university"):
            nearby = place is not None and self._provinces.get(sid) == place.province
            line = self.first_sentence(sid)
            if line and (area is not None or nearby):
                scored.append((float(self._talent_vectors[sid] @ query) + (NEARBY_BONUS if nearby else 0.0), line))
        out += [line for _, line in sorted(scored, key=lambda s: -s[0])[:TALENT_PER_KIND]]
        if area is None:
            return out  # an academy is chosen for its field, and the field needs a sector to fit
        scored = []
        for sid in self.retriever.records_of("its"):
            field_line = self.labelled(sid, "Field:")
            if field_line:  # the sources do not state every academy's field
                nearby = place is not None and self._provinces.get(sid) == place.province
                scored.append((float(field_line[2] @ query) + (NEARBY_BONUS if nearby else 0.0), field_line[:2]))
        return out + [line for _, line in sorted(scored, key=lambda s: -s[0])[:TALENT_PER_KIND]]

    def first_sentence(self, source_id: str) -> tuple[Hit, str] | None:
        first = next(self._sentences(source_id), None)
        return first[:2] if first else None
