"""The identity of a row of a source, whichever search found it: what the crawl deduplicates by.

Overlapping searches (two cities 20 miles apart, a city inside a state asked for whole) return the
same row of the same source again, with only the search's own traces changed: the URL and place
in the result that found it, its distance from that search's centre, the time. The key is the
row with those left out, so the same row is kept once before the build, and per-area counts,
feed sizes and the crawl monitors count rows, not searches. Deciding that two different rows are
one program (the export's SU and MH twins, a renamed street) is a judgment, made by the build's
merge (pipelines/merge.py), which can change and rerun without a recrawl; this key judges nothing.
"""
from __future__ import annotations

import hashlib
import json

from itemadapter import ItemAdapter

# What a search adds to a row: where and when it was found, for which area, how far from the centre.
SEARCH_FIELDS = frozenset({"source_url", "source_ref", "fetched_at", "city_query"})
SEARCH_EXTRAS = frozenset({"miles", "_irow"})


def row_key(item, search_fields: frozenset[str] = SEARCH_FIELDS) -> str:
    """A short stable hash of the row an item carries, without its search's traces. A source
    read whole (the export) names its rows by number: two equal rows there are two rows, so its
    spider leaves source_ref out of `search_fields`."""
    fields = {k: v for k, v in ItemAdapter(item).items() if k not in search_fields}
    if isinstance(fields.get("extras"), dict):
        fields["extras"] = {k: v for k, v in fields["extras"].items() if k not in SEARCH_EXTRAS}
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
