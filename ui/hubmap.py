"""The hub map: an SVG drawn from the local provinces GeoJSON, with a dot per hub. No tile server, no CDN, no
script: the same picture works inline in the chat and as an image in the widget, at any width."""

import json
import math
from functools import lru_cache
from html import escape
from pathlib import Path

from bot.types import HubRef

ATTRIBUTION = "Administrative limits: ISTAT, CC-BY 4.0, via openpolis/geojson-italy"
WIDTH = 600  # viewBox units; the picture scales to its container
MARGIN = 8
SPREAD_DEG = 0.018  # hubs that share a city point are spread on a small circle around it


@lru_cache(maxsize=2)
def provinces(geo_dir: Path) -> dict:
    return json.loads((geo_dir / "lombardy_provinces.geojson").read_text(encoding="utf-8"))


def _rings(feature: dict) -> list[list[list[float]]]:
    geometry = feature["geometry"]
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [polygon[0] for polygon in polygons]


class Projection:
    """Longitude and latitude to viewBox units: equirectangular, longitudes shrunk by the cosine of the region's
    middle latitude, so Lombardy keeps its shape (a map library would be a dependency for one formula)."""

    def __init__(self, geo: dict) -> None:
        points = [p for f in geo["features"] for ring in _rings(f) for p in ring]
        self.west, self.east = min(p[0] for p in points), max(p[0] for p in points)
        self.south, self.north = min(p[1] for p in points), max(p[1] for p in points)
        self.shrink = math.cos(math.radians((self.south + self.north) / 2))
        self.scale = (WIDTH - 2 * MARGIN) / ((self.east - self.west) * self.shrink)
        self.height = round((self.north - self.south) * self.scale + 2 * MARGIN + 14)  # 14: attribution line

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (round(MARGIN + (lon - self.west) * self.shrink * self.scale, 1),
                round(MARGIN + (self.north - lat) * self.scale, 1))

    def outline(self, ring: list[list[float]]) -> str:
        """A province's outline to the unit: finer would add kilobytes, not detail, at the sizes shown."""
        return " ".join(f"{round(x)},{round(y)}" for x, y in (self(lon, lat) for lon, lat in ring))


def spread(hubs: list[HubRef]) -> list[tuple[HubRef, float, float]]:
    """Each hub with the point to draw it at, in the order given (a dot's number is its place in the list): hubs at
    the same city-level point are placed around it, so each can be seen."""
    groups: dict[tuple[float, float], list[int]] = {}
    for i, hub in enumerate(hubs):
        groups.setdefault((hub.lat, hub.lon), []).append(i)
    placed: list[tuple[HubRef, float, float]] = []
    for i, hub in enumerate(hubs):
        group = groups[(hub.lat, hub.lon)]
        if len(group) == 1 or hub.coord_precision != "city":
            placed.append((hub, hub.lat, hub.lon))
        else:
            angle = 2 * math.pi * group.index(i) / len(group)
            placed.append((hub, hub.lat + SPREAD_DEG * math.sin(angle), hub.lon + SPREAD_DEG * math.cos(angle)))
    return placed


@lru_cache(maxsize=2)
def _provinces_layer(geo_dir: Path) -> tuple[Projection, str]:
    """The projection and the drawn provinces with their codes: the same for every map, so drawn once."""
    geo = provinces(geo_dir)
    project = Projection(geo)
    parts = ['<g fill="#e3eaf1" stroke="#8a99a8" stroke-width="1">']
    for feature in geo["features"]:
        for ring in _rings(feature):
            parts.append(f'<polygon points="{project.outline(ring)}"/>')
    parts.append('</g><g font-family="sans-serif" font-size="12" fill="#5b6b7b" text-anchor="middle">')
    for feature in geo["features"]:
        ring = max(_rings(feature), key=len)
        x, y = project(sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
        parts.append(f'<text x="{x}" y="{y}">{escape(feature["properties"].get("prov_acr", ""))}</text>')
    parts.append("</g>")
    return project, "".join(parts)


def hub_map_svg(hubs: list[HubRef], geo_dir: Path, label: str = "Innovation centres") -> str:
    """The provinces with their codes and the hubs as numbered dots (the number is the hub's place in the list
    beside or under the map); each dot's title names the hub."""
    project, layer = _provinces_layer(geo_dir)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {project.height}" '
             f'role="img" aria-label="{escape(label)}" class="hub-map" style="width:100%;height:auto;max-width:100%">',
             layer, '<g font-family="sans-serif" font-size="10" font-weight="bold" text-anchor="middle">']
    for n, (hub, lat, lon) in enumerate(spread(hubs), start=1):
        x, y = project(lon, lat)
        title = f"{n}. {hub.name} – {hub.city} ({hub.province})"
        parts.append(f'<g class="hub-dot"><title>{escape(title)}</title>'
                     f'<circle cx="{x}" cy="{y}" r="8" fill="#c62828" stroke="#fff" stroke-width="1.5"/>'
                     f'<text x="{x}" y="{y + 3.5}" fill="#fff">{n}</text></g>')
    parts.append(f'</g><text x="{MARGIN}" y="{project.height - 4}" font-family="sans-serif" font-size="10" '
                 f'fill="#666">{escape(ATTRIBUTION)}</text></svg>')
    return "".join(parts)
