"""Distances between two points on the map, for «the same shop» when names are spelled apart."""

from __future__ import annotations

import math
from typing import Final

EARTH_RADIUS_M: Final = 6_371_000.0
#: Two reports this close are about the same place (a shop front, a stall in one passage).
SAME_PLACE_M: Final = 100.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine; exact enough at a city's scale)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def box(lat: float, lon: float, metres: float) -> tuple[float, float, float, float]:
    """(lat_min, lat_max, lon_min, lon_max) around a point: every point within `metres` is
    inside, so an indexed range query finds the candidates and `distance_m` decides."""
    dlat = math.degrees(metres / EARTH_RADIUS_M)
    cos = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, dlat / cos)
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
