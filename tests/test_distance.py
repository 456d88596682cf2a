"""The SQL function distance_miles (plugins/distance.py), asked through Datasette configured as
`make serve` runs it: registered, the crawl's and the build's haversine (common.geo.miles_between)
to the last digit, independently right, and NULL where a coordinate is missing or not a number."""
from __future__ import annotations

from datasette.app import Datasette

from common.geo import miles_between
from common.serving import datasette_options
from tests.support import haversine_miles

ZIP_77002 = (29.7594, -95.3594)  # the zipcodes package's centroid of 77002


async def _rows(built_db, sql: str, **params) -> list[dict]:
    ds = Datasette(**datasette_options(built_db))
    response = await ds.client.get(f"/{built_db.stem}.json", params={"sql": sql, "_shape": "array", **params})
    assert response.status_code == 200, response.text
    return response.json()


async def test_distance_miles_in_sql_is_the_shared_haversine(built_db):
    rows = await _rows(built_db, "select latitude, longitude, distance_miles(latitude, longitude, :lat, :lon) as miles "
                                 "from programs where latitude is not null order by id limit 50",
                       lat=str(ZIP_77002[0]), lon=str(ZIP_77002[1]))
    assert len(rows) == 50
    for row in rows:
        assert row["miles"] == miles_between(row["latitude"], row["longitude"], *ZIP_77002)
        assert abs(row["miles"] - haversine_miles(row["latitude"], row["longitude"], *ZIP_77002)) < 0.01
    # Houston to Dallas downtown: about 225 miles as the crow flies.
    [far] = await _rows(built_db, "select distance_miles(29.7604, -95.3698, 32.7767, -96.7970) as miles")
    assert 224 < far["miles"] < 226


async def test_distance_miles_is_null_without_a_number(built_db):
    [row] = await _rows(built_db, "select distance_miles(null, -95.36, 32.77, -96.79) as missing, "
                                  "distance_miles('north', -95.36, 32.77, -96.79) as words, "
                                  "distance_miles('29.7594', '-95.3594', 29.7594, -95.3594) as text_numbers")
    assert row == {"missing": None, "words": None, "text_numbers": 0.0}
