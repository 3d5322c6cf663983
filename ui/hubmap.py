"""The hub map: plotly drawn on the local provinces GeoJSON, so no tile server or CDN is needed."""

import json
import math
from functools import lru_cache
from pathlib import Path

import plotly.graph_objects as go

from bot.compose import HubRef

ATTRIBUTION = "Administrative limits: ISTAT, CC-BY 4.0, via openpolis/geojson-italy"
SPREAD_DEG = 0.018  # hubs that share a city point are spread on a small circle around it


@lru_cache(maxsize=2)
def provinces(geo_dir: Path) -> dict:
    return json.loads((geo_dir / "lombardy_provinces.geojson").read_text(encoding="utf-8"))


def spread(hubs: list[HubRef]) -> list[tuple[HubRef, float, float]]:
    """Hubs at the same city-level point are placed around it, so each can be seen and hovered."""
    groups: dict[tuple[float, float], list[HubRef]] = {}
    for hub in hubs:
        groups.setdefault((hub.lat, hub.lon), []).append(hub)
    placed = []
    for (lat, lon), group in groups.items():
        for i, hub in enumerate(group):
            if len(group) == 1 or hub.coord_precision != "city":
                placed.append((hub, lat, lon))
            else:
                angle = 2 * math.pi * i / len(group)
                placed.append((hub, lat + SPREAD_DEG * math.sin(angle), lon + SPREAD_DEG * math.cos(angle)))
    return placed


def hub_map(hubs: list[HubRef], geo_dir: Path) -> go.Figure:
    geo = provinces(geo_dir)
    fig = go.Figure()
    for feature in geo["features"]:
        polygons = feature["geometry"]["coordinates"]
        if feature["geometry"]["type"] == "Polygon":
            polygons = [polygons]
        for polygon in polygons:
            ring = polygon[0]
            fig.add_trace(go.Scatter(x=[p[0] for p in ring], y=[p[1] for p in ring], mode="lines",
                                     line={"color": "#8a99a8", "width": 1}, fill="toself",
                                     fillcolor="rgba(210,220,230,0.35)", hoverinfo="skip", showlegend=False))
    placed = spread(hubs)
    if placed:
        fig.add_trace(go.Scatter(
            x=[lon for _, _, lon in placed], y=[lat for _, lat, _ in placed], mode="markers",
            marker={"size": 11, "color": "#c62828", "line": {"color": "white", "width": 1}}, showlegend=False,
            text=[f"{h.name}<br>{h.type.replace('_', ' ')} · {h.city} ({h.province})"
                  + ("<br><i>approximate (city level)</i>" if h.coord_precision == "city" else "")
                  for h, _, _ in placed],
            hoverinfo="text"))
    fig.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 24}, height=420, plot_bgcolor="white",
                      xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1.4},
                      annotations=[{"text": ATTRIBUTION, "xref": "paper", "yref": "paper", "x": 0, "y": -0.05,
                                    "showarrow": False, "font": {"size": 9, "color": "#666"}}])
    return fig
