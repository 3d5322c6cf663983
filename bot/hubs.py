"""Structured hub search: filters by type, province and distance, ranked by how well a hub fits a sector.

The sector is matched by meaning: the sector words are embedded and compared with each hub's indexed text
(its description, sectors and S3 tags), so "batteries" or "drones" find hubs without a keyword table.
"""

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bot.compose import HubRef
from bot.gazetteer import Place, distance_km, find_place
from bot.retrieve import HybridRetriever
from index.records import PROVINCES

HUB_TYPES = ("incubator", "accelerator", "innovation_hub", "science_park", "research_centre", "competence_centre",
             "coworking", "digital_innovation_hub", "university_tto")
# Hub tags in the dataset -> S3 area record ids in the corpus.
S3_TAGS = {"aerospace": "aerospazio", "agrifood": "agroalimentare", "eco_industry": "eco-industria",
           "creative_cultural": "industrie-creative-culturali", "health": "industria-salute",
           "advanced_manufacturing": "manifatturiero-avanzato", "sustainable_mobility": "mobilita-sostenibile",
           "smart_cities": "smart-cities-communities"}
SECTOR_WINDOW = 0.04  # hubs within this cosine of the best match count as fitting the sector


class HubQueryError(ValueError):
    """A filter that cannot be applied (unknown province, type or place); the message lists valid values."""


@dataclass
class HubMatch:
    hub: HubRef
    distance_km: float | None
    relevance: float | None

    def as_dict(self) -> dict:
        return {**asdict(self.hub), "distance_km": None if self.distance_km is None else round(self.distance_km, 1),
                "relevance": None if self.relevance is None else round(self.relevance, 3)}


class HubSearch:
    def __init__(self, retriever: HybridRetriever, geo_dir: Path) -> None:
        self.retriever = retriever
        self.geo_dir = geo_dir
        self.records = retriever.records_of("hub")
        first = {d.metadata["source_id"]: d for d in reversed(retriever.chunks) if d.metadata.get("kind") == "hub"}
        self.ids = [sid for sid in self.records if sid in first]
        self.vectors = retriever.chunk_vectors([first[sid].id for sid in self.ids])
        # Each hub also borrows the meaning of its S3 areas' descriptions: a sector close to "Health industry"
        # lifts every health-tagged hub, whatever words its own description uses.
        areas = {tag: f"s3:{sid}#0" for tag, sid in S3_TAGS.items() if f"s3:{sid}#0" in retriever.chunk_ids}
        tags = list(areas)
        self.area_sources = [f"s3:{S3_TAGS[t]}" for t in tags]
        self.area_vectors = retriever.chunk_vectors([areas[t] for t in tags])
        self.hub_areas = [[tags.index(t) for t in self.records[sid].get("s3_areas", []) if t in areas]
                          for sid in self.ids]

    def resolve(self, place: str) -> Place:
        found = find_place(place, self.geo_dir) or find_place(place.title(), self.geo_dir)
        if found is None:
            raise HubQueryError(f"'{place}' is not a municipality, province or area of Lombardy that I know.")
        return found

    def search(self, sector: str | None = None, hub_type: str | None = None, province: str | None = None,
               near: Place | None = None, km: float | None = None, limit: int = 8,
               sector_vector: list[float] | None = None, s3_area: str | None = None,
               prefer_area: str | None = None) -> list[HubMatch]:
        """`sector_vector`, when the caller has already embedded the sector text, saves embedding it again.
        `s3_area` (a tag: health, aerospace, …) keeps only the hubs tagged with it; `prefer_area` (an S3 area's
        source id) puts them first, each group ranked by sector fit."""
        if province and province.upper() not in PROVINCES:
            raise HubQueryError(f"Unknown province '{province}'. Valid codes: {', '.join(sorted(PROVINCES))}.")
        if hub_type and hub_type not in HUB_TYPES:
            raise HubQueryError(f"Unknown type '{hub_type}'. Valid types: {', '.join(HUB_TYPES)}.")
        if s3_area and s3_area not in S3_TAGS:
            raise HubQueryError(f"Unknown S3 area '{s3_area}'. Valid areas: {', '.join(S3_TAGS)}.")
        if sector and sector_vector is None:
            sector_vector = self.retriever.embeddings.embed_query(sector)
        relevance = self.relevance(sector_vector) if sector else np.zeros(len(self.ids))
        matches = []
        for sid, score in zip(self.ids, relevance, strict=True):
            r = self.records[sid]
            distance = distance_km(near.lat, near.lon, r["lat"], r["lon"]) if near else None
            if (hub_type and r["type"] != hub_type) or (province and r["province"] != province.upper()):
                continue
            if s3_area and s3_area not in r.get("s3_areas", []):
                continue
            if near and km is not None and distance > km:
                continue
            matches.append(HubMatch(hub_ref(r), distance, float(score) if sector else None))
        if sector and matches:  # the sector window is relative to the best hub that passes the other filters
            best = max(m.relevance or 0.0 for m in matches)
            matches = [m for m in matches if (m.relevance or 0.0) >= best - SECTOR_WINDOW]
        tag = next((t for t, sid in S3_TAGS.items() if f"s3:{sid}" == prefer_area), None)
        matches.sort(key=lambda m: (tag not in self.records[m.hub.id].get("s3_areas", []), -(m.relevance or 0.0),
                                    m.distance_km or 0.0, m.hub.name))
        return matches[:limit]


    def hub_area_sources(self, position: int) -> list[str]:
        """The S3 areas (source ids) of the hub at this position of `ids`."""
        return [self.area_sources[i] for i in self.hub_areas[position]]

    def relevance(self, sector_vector: list[float]) -> np.ndarray:
        query = np.asarray(sector_vector, dtype=np.float32)
        own = self.vectors @ query
        area = self.area_vectors @ query if len(self.area_vectors) else np.zeros(0)
        borrowed = np.array([max((area[i] for i in idx), default=float(own.min())) for idx in self.hub_areas])
        return (own + borrowed) / 2


def hub_ref(record: dict) -> HubRef:
    return HubRef(record["id"], record["name"], record["type"], record["city"], record["province"], record["lat"],
                  record["lon"], record["coord_precision"], record.get("website"), list(record.get("sectors") or []))
