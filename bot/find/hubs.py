"""Structured hub search: filters by type, province and distance, ranked by how well a hub fits a sector.

The sector is matched by meaning: the sector words are embedded and compared with each hub's indexed text
(its description, sectors and S3 tags), so "batteries" or "drones" find hubs without a keyword table.
"""

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bot.find.gazetteer import Place, distance_km, find_place
from bot.find.retrieve import HybridRetriever
from bot.tuning import SECTOR_LIST_SHARE, SECTOR_WINDOW
from bot.types import HubRef
from index.records import PROVINCES

HUB_TYPES = ("incubator", "accelerator", "innovation_hub", "science_park", "research_centre", "competence_centre",
             "coworking", "digital_innovation_hub", "university_tto")


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
        # A hub is matched by its sector list and by the sentence of its summaries (in all six languages: a question
        # meets the sentence in its own language, so the ranking depends less on the language it was asked in)
        # closest to the sector. The list alone misses "medical devices" (no hub lists those words); the sentences
        # alone let a place or a type in the question pull in hubs of another sector ("fintech in Milan" got a
        # biotech incubator); SECTOR_LIST_SHARE weighs the two.
        self.ids = [sid for sid in self.records if retriever.sentences.get(f"{sid}#en", ([], None))[0]]
        sentence_vectors = [np.concatenate([retriever.sentences[d.id][1] for d in retriever.by_source[sid]
                                            if d.metadata.get("summary_of") and d.id in retriever.sentences])
                            for sid in self.ids]
        self.vectors = np.concatenate(sentence_vectors) if sentence_vectors else np.empty((0, 384), np.float32)
        self._starts = np.cumsum([0] + [len(v) for v in sentence_vectors[:-1]])
        sectors = retriever.passage_embeddings.embed_documents([sector_text(self.records[sid]) for sid in self.ids])
        self.sector_vectors = np.asarray(sectors, dtype=np.float32).reshape(len(self.ids), self.vectors.shape[1])
        # Each hub also borrows the meaning of its S3 areas' descriptions: a sector close to "Health industry"
        # lifts every health-tagged hub, whatever words its own description uses. The areas are the S3 records
        # that hubs or clusters link to.
        linked = {a for r in retriever.records.values() if r.get("kind") in ("hub", "cluster")
                  for a in r.get("s3_areas", [])}
        self.area_sources = sorted(a for a in linked if f"{a}#en" in retriever.chunk_ids)
        self.area_vectors = retriever.chunk_vectors([f"{a}#en" for a in self.area_sources])
        self.hub_areas = [[self.area_sources.index(a) for a in self.records[sid].get("s3_areas", [])
                           if a in self.area_sources] for sid in self.ids]

    def resolve(self, place: str) -> Place:
        found = find_place(place, self.geo_dir) or find_place(place.title(), self.geo_dir)
        if found is None:
            raise HubQueryError(f"'{place}' is not a municipality, province or area of Lombardy that I know.")
        return found

    def search(self, sector: str | None = None, hub_type: str | tuple[str, ...] | None = None,
               province: str | None = None,
               near: Place | None = None, km: float | None = None, limit: int = 8,
               sector_vector: list[float] | None = None, s3_area: str | None = None,
               prefer_area: str | None = None, floor: float = 0.0) -> list[HubMatch]:
        """`sector_vector`, when the caller has already embedded the sector text, saves embedding it again.
        `s3_area` (an S3 area's id, with or without "s3:") keeps only the hubs linked to it; `prefer_area` (an
        S3 area's id) puts them first, each group ranked by sector fit. `floor`: the least fit shown."""
        if province and province.upper() not in PROVINCES:
            raise HubQueryError(f"Unknown province '{province}'. Valid codes: {', '.join(sorted(PROVINCES))}.")
        types = (hub_type,) if isinstance(hub_type, str) else tuple(hub_type or ())
        if unknown := [t for t in types if t not in HUB_TYPES]:
            raise HubQueryError(f"Unknown type '{unknown[0]}'. Valid types: {', '.join(HUB_TYPES)}.")
        if s3_area and not s3_area.startswith("s3:"):
            s3_area = f"s3:{s3_area}"
        if s3_area and s3_area not in self.area_sources:
            valid = ", ".join(a.removeprefix("s3:") for a in self.area_sources)
            raise HubQueryError(f"Unknown S3 area '{s3_area.removeprefix('s3:')}'. Valid areas: {valid}.")
        if sector and sector_vector is None:
            sector_vector = self.retriever.embeddings.embed_query(sector)
        # a hub borrows the meaning of the question's S3 area only, when it has one: borrowing any area's would let
        # a hub tagged with several areas outrank the one that names the investor's sector ("fintech")
        relevance = (self.relevance(sector_vector, prefer_area) if sector else np.zeros(len(self.ids)))
        matches = []
        for sid, score in zip(self.ids, relevance, strict=True):
            r = self.records[sid]
            distance = distance_km(near.lat, near.lon, r["lat"], r["lon"]) if near else None
            if (types and r["type"] not in types) or (province and r["province"] != province.upper()):
                continue
            if s3_area and s3_area not in r.get("s3_areas", []):
                continue
            if near and km is not None and distance > km:
                continue
            matches.append(HubMatch(hub_ref(r), distance, float(score) if sector else None))
        if sector and matches:  # the sector window is relative to the best hub that passes the other filters
            best = max(m.relevance or 0.0 for m in matches)
            matches = [m for m in matches if (m.relevance or 0.0) >= max(best - SECTOR_WINDOW, floor)]
        matches.sort(key=lambda m: (prefer_area not in self.records[m.hub.id].get("s3_areas", []),
                                    -(m.relevance or 0.0),
                                    m.distance_km or 0.0, m.hub.name))
        return matches[:limit]

    def relevance(self, sector_vector: list[float], area: str | None = None) -> np.ndarray:
        """How well each hub fits the sector; with the investor's S3 area, the hubs of that area also borrow its
        description's meaning. Only that area's: a hub of a neighbouring area (smart cities for mobility) borrowing
        its own area's closeness came before the manufacturing hubs an automotive supplier wants."""
        query = np.asarray(sector_vector, dtype=np.float32)
        if not self.ids:
            return np.zeros(0)
        sentences = np.maximum.reduceat(self.vectors @ query, self._starts)
        own = (1 - SECTOR_LIST_SHARE) * sentences + SECTOR_LIST_SHARE * (self.sector_vectors @ query)
        if area not in self.area_sources:
            return own
        chosen = self.area_sources.index(area)
        borrowed = float(self.area_vectors[chosen] @ query)
        return np.array([(mine + borrowed) / 2 if chosen in idx else mine
                         for mine, idx in zip(own, self.hub_areas, strict=True)])


def sector_text(record: dict) -> str:
    """What a hub works on, as embedded for the sector match: its sector list, else its name."""
    return ", ".join(record.get("sectors") or []) or record["name"]


def hub_ref(record: dict) -> HubRef:
    return HubRef(record["id"], record["name"], record["type"], record["city"], record["province"], record["lat"],
                  record["lon"], record["coord_precision"], record.get("website"), list(record.get("sectors") or []))
