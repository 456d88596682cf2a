"""What the directory covers: one row per area a crawl asked for ("Houston, TX"), with its centre
and radius, how many listed programs it holds, and each source with the date of its data. The
home page says this plainly, and a search outside every area says which is nearest."""
from __future__ import annotations

import json

from common.places import DEFAULT_RADIUS_MILES, City, CityError, city_centre, parse_cities


def coverage_rows(conn) -> list[dict]:
    """Rows for the `coverage` table from the listings of listed programs, area by area."""
    areas: dict[str, dict] = {}
    for area, source, url, newest, oldest, programs in conn.execute(
        "select l.city_query, l.source, l.source_url, max(coalesce(l.source_date, l.fetched_at)), "
        "min(coalesce(l.source_date, l.fetched_at)), count(distinct l.program_id) "
        "from listings l join programs p on p.id = l.program_id "
        "where p.status = 'listed' and l.city_query is not null "
        "group by l.city_query, l.source, l.source_url order by l.city_query, l.source, l.source_url"
    ):
        row = areas.setdefault(area, _area(area))
        row["sources"].append({"source": source, "url": url, "data_date": (newest or "")[:10] or None})
        row["data_date"] = max(filter(None, [row["data_date"], (newest or "")[:10]]), default=None)
        row["oldest_date"] = min(filter(None, [row["oldest_date"], (oldest or "")[:10]]), default=None)
    counts = dict(conn.execute(
        "select l.city_query, count(distinct l.program_id) from listings l join programs p on p.id = l.program_id "
        "where p.status = 'listed' and l.city_query is not null group by l.city_query"))
    for area, row in areas.items():
        row["programs"] = counts.get(area, 0)
        row["sources"] = json.dumps(row["sources"], ensure_ascii=False)
    return list(areas.values())


def _area(label: str) -> dict:
    try:
        city = parse_cities(label)[0]
        latitude, longitude = city_centre(city)
    except CityError:  # an area the crawl named that no place data knows: listed, without a point
        city, latitude, longitude = City(label, ""), None, None
    return {"area": label, "state": city.state or None, "latitude": latitude, "longitude": longitude,
            "miles": DEFAULT_RADIUS_MILES, "programs": 0, "sources": [], "data_date": None, "oldest_date": None}
