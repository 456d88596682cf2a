"""A page that is not there says so in plain words and offers the way home and to the search,
under any base_url (issue 13)."""
from __future__ import annotations

from datasette.app import Datasette

from common.serving import datasette_options


async def test_a_missing_page_offers_the_way_home(built_db):
    for base in ("/", "/dir/"):
        ds = Datasette(**datasette_options(built_db, base_url=base))
        response = await ds.client.get("/no/such/page")
        assert response.status_code == 404
        assert "This page is not here" in response.text
        assert f'href="{base}">start again from the home page</a>' in response.text
        assert f'href="{base}find">search for programs near you</a>' in response.text
