"""The same services as HSDS JSON: one document per service in the shape of the official compiled
schema schema/compiled/service.json (exports/hsds_spec/), made from the very rows the CSV files
are written from, so the two forms cannot say different things.

A document is the service's own fields, its organization, and every array the schema gives a
service (empty where the directory knows nothing); each service_at_location embeds its location
with its addresses, each attribute its taxonomy term with the taxonomy, and each metadata row sits
with the record it describes. Empty values are left out: the schema types every field as a plain
string or number, never null.
"""
from __future__ import annotations

from exports.hsds_official import fields

# The arrays a service document carries, in the order of the compiled schema's properties.
SERVICE_ARRAYS = ("phones", "schedules", "service_areas", "service_at_locations", "languages", "funding",
                  "cost_options", "required_documents", "contacts", "attributes", "metadata")


def _clean(row: dict, order: list[str]) -> dict:
    """A row's filled fields, in the official order."""
    return {name: row[name] for name in order if row.get(name) not in (None, "")}


def _index(rows: list[dict], key: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in rows:
        found.setdefault(row.get(key), []).append(row)
    return found


class Documents:
    """Looks rows up by the ids that link them, once for all services."""

    def __init__(self, tables: dict[str, list[dict]], resources: list[dict]):
        self.order = {resource["name"]: fields(resource) for resource in resources}
        self.tables = tables
        self.by_id = {name: {row["id"]: row for row in rows} for name, rows in tables.items()}
        self.by_service = {name: _index(tables[name], "service_id")
                           for name in ("phone", "service_at_location", "language", "cost_option")}
        self.addresses = _index(tables["address"], "location_id")
        self.attributes = _index(tables["attribute"], "link_id")
        self.metadata = _index(tables["metadata"], "resource_id")

    def row(self, name: str, row: dict) -> dict:
        return _clean(row, self.order[name])

    def rows(self, name: str, rows: list[dict]) -> list[dict]:
        return [self.row(name, row) for row in rows]

    def attribute(self, attribute: dict) -> dict:
        term = self.by_id["taxonomy_term"][attribute["taxonomy_term_id"]]
        taxonomy = self.by_id["taxonomy"][term["taxonomy_id"]]
        return {
            **self.row("attribute", attribute),
            "taxonomy_term": {**self.row("taxonomy_term", term), "taxonomy_detail": self.row("taxonomy", taxonomy)},
            "metadata": self.rows("metadata", self.metadata.get(attribute["id"], [])),
        }

    def service_at_location(self, link: dict) -> dict:
        location = self.by_id["location"][link["location_id"]]
        return {
            **self.row("service_at_location", link),
            "location": {**self.row("location", location),
                         "addresses": self.rows("address", self.addresses.get(location["id"], []))},
        }

    def service(self, service: dict) -> dict:
        """One service document."""
        sid = service["id"]
        arrays = {name: [] for name in SERVICE_ARRAYS}
        arrays.update(
            phones=self.rows("phone", self.by_service["phone"].get(sid, [])),
            service_at_locations=[self.service_at_location(link)
                                  for link in self.by_service["service_at_location"].get(sid, [])],
            languages=self.rows("language", self.by_service["language"].get(sid, [])),
            cost_options=self.rows("cost_option", self.by_service["cost_option"].get(sid, [])),
            attributes=[self.attribute(a) for a in self.attributes.get(sid, [])],
            metadata=self.rows("metadata", self.metadata.get(sid, [])),
        )
        organization = self.row("organization", self.by_id["organization"][service["organization_id"]])
        return {**self.row("service", service), "organization": organization, **arrays}

    def all(self) -> list[dict]:
        return [self.service(service) for service in self.tables["service"]]


def service_documents(tables: dict[str, list[dict]], resources: list[dict]) -> list[dict]:
    """Every service as an HSDS JSON document, in the order of services.csv."""
    return Documents(tables, resources).all()
