"""The one item shape every spider yields: a listing as its source gave it, plus provenance."""
from dataclasses import dataclass, field


@dataclass
class ListingItem:
    """One row of one source. Values are the source's text, stripped but not normalized:
    normalizing happens in the build, so it can be changed and rerun without a recrawl."""

    source: str  # spider name, e.g. "findtreatment_export"
    source_url: str  # the URL the row was read from
    source_ref: str  # where in that source: "row 17", "page 2 row 5"
    fetched_at: str  # ISO 8601 UTC time the response was received
    city_query: str  # the requested city this row was kept for, "Houston, TX"
    name1: str | None = None
    name2: str | None = None
    street1: str | None = None
    street2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    county: str | None = None
    phone: str | None = None
    intake_phone: str | None = None
    website: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    facility_type: str | None = None
    # SAMHSA service codes the row carries, upper case, in source order.
    service_codes: list[str] = field(default_factory=list)
    # Service texts the source gave that matched no code: {"category_code", "text"}.
    unmapped_services: list[dict] = field(default_factory=list)
    # Problems the parser saw in this row; the build rejects a row that has any.
    problems: list[str] = field(default_factory=list)
    # The date the source itself gives for its data (an export's own date), ISO 8601; None if none.
    source_date: str | None = None
    # Anything else the source said that has no fixed field (API "miles", "_irow", ...).
    extras: dict = field(default_factory=dict)
