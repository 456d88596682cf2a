"""SQL functions for Datasette: distance_miles(lat1, lon1, lat2, lon2), great-circle miles."""
from __future__ import annotations

import math

from datasette import hookimpl

EARTH_RADIUS_MILES = 3958.7613


def distance_miles(lat1, lon1, lat2, lon2):
    """Haversine distance in miles; NULL if any coordinate is missing or not a number."""
    try:
        phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
        dphi = phi2 - phi1
        dlambda = math.radians(float(lon2) - float(lon1))
    except (TypeError, ValueError):
        return None
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


@hookimpl
def prepare_connection(conn):
    conn.create_function("distance_miles", 4, distance_miles, deterministic=True)
