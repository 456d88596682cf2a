"""SQL functions for Datasette: distance_miles(lat1, lon1, lat2, lon2), great-circle miles, the
same haversine as the crawl and the build use (common.geo.miles_between)."""
from __future__ import annotations

from datasette import hookimpl

from common.geo import miles_between


def distance_miles(lat1, lon1, lat2, lon2):
    """Haversine distance in miles; NULL if any coordinate is missing or not a number."""
    try:
        points = float(lat1), float(lon1), float(lat2), float(lon2)
    except (TypeError, ValueError):
        return None
    return miles_between(*points)


@hookimpl
def prepare_connection(conn):
    conn.create_function("distance_miles", 4, distance_miles, deterministic=True)
