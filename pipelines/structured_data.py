"""What a provider's page says about the provider in schema.org markup, reduced to a small dict,
from the JSON-LD objects and microdata items the provider_sites spider stored for the page
(common.page_reading reads them, with extruct; the build summarises them here):

    extract_structured(item) -> {"type", "types", "name", "telephone", "address",
                                 "opening_hours", "description", "same_as", "url", "syntax"}

Only organisation-like nodes count (MedicalClinic, MedicalOrganization, LocalBusiness and kin);
the most specific one is taken and its gaps filled from the others. A page without such markup
gives {}.

    offered_services(item) -> [(where, name)]

The services the markup says the organisation offers (availableService, hasOfferCatalog,
makesOffer, department, or a MedicalTherapy/Service node of the page or its mainEntity), by name, for the judge to read as
labels ("Intensive Outpatient Program" names IOP). Topics (knowsAbout, about, mentions) are not
services.

    descriptions(item) -> [(where, text)]

What the organisation and its service nodes say of themselves in their `description`, for the
judge to read as sentences ("Willow Creek offers medical detox and residential treatment").
"""
from __future__ import annotations

import re
from collections.abc import Iterable

# Most specific first: the first type found in this order is the node described.
ORG_TYPES = (
    "PsychiatricHospital", "MedicalClinic", "Hospital", "MedicalOrganization", "Physician", "MedicalBusiness",
    "MedicalCenter", "EmergencyService", "HealthAndBeautyBusiness", "ProfessionalService", "LocalBusiness",
    "NGO", "GovernmentOrganization", "Organization", "Corporation",
)
# Properties whose values are services the organisation offers, and the types a page's own
# service node has (a page about one program: {"@type": "MedicalTherapy", "name": "Medical Detox"}).
SERVICE_PROPERTIES = ("availableService", "hasOfferCatalog", "makesOffer", "department")
SERVICE_TYPES = ("MedicalTherapy", "TherapeuticProcedure", "PsychologicalTreatment", "MedicalProcedure", "Service")
SERVICE_NAMES = ("name", "serviceType", "alternateName")
FIELDS = ("name", "telephone", "address", "opening_hours", "description", "same_as", "url")
MAX_DESCRIPTION = 1000
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "PublicHolidays")


def _short_type(value: str) -> str:
    return re.split(r"[/#:]", value.strip())[-1]


def _types(node: dict) -> list[str]:
    value = node.get("@type") or node.get("type") or []
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [_short_type(v) for v in values if isinstance(v, str)]


def _text(value) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, (str, int, float))), None)
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    if value is None or isinstance(value, (dict, list)):
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def _address(value) -> dict | None:
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, str):
        text = _text(value)
        return {"text": text} if text else None
    if not isinstance(value, dict):
        return None
    parts = {
        "street": _text(value.get("streetAddress")),
        "locality": _text(value.get("addressLocality")),
        "region": _text(value.get("addressRegion")),
        "postal_code": _text(value.get("postalCode")),
        "country": _text(value.get("addressCountry")),
    }
    parts = {k: v for k, v in parts.items() if v}
    return parts or None


def _days(value) -> str:
    values = value if isinstance(value, list) else [value]
    names = [_short_type(v) for v in values if isinstance(v, str)]
    return ", ".join(n for n in names if n)


def _opening_hours(node: dict) -> list[str]:
    hours: list[str] = []
    plain = node.get("openingHours")
    for value in plain if isinstance(plain, list) else [plain]:
        text = _text(value)
        if text:
            hours.append(text)
    specs = node.get("openingHoursSpecification")
    for spec in specs if isinstance(specs, list) else [specs]:
        if not isinstance(spec, dict):
            continue
        days, opens, closes = _days(spec.get("dayOfWeek")), _text(spec.get("opens")), _text(spec.get("closes"))
        if days or opens or closes:
            hours.append(f"{days} {opens or '?'}-{closes or '?'}".strip())
    return hours


def _same_as(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _summary(node: dict) -> dict:
    description = _text(node.get("description"))
    summary = {
        "name": _text(node.get("name")),
        "telephone": _text(node.get("telephone")),
        "address": _address(node.get("address")),
        "opening_hours": _opening_hours(node),
        "description": description[:MAX_DESCRIPTION] if description else None,
        "same_as": _same_as(node.get("sameAs")),
        "url": _text(node.get("url")),
    }
    return summary


def json_objects(value) -> Iterable[dict]:
    """Every object in parsed JSON (JSON-LD or microdata items), @graph and nesting included."""
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from json_objects(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from json_objects(inner)


def schema_nodes(item: dict) -> list[tuple[str, dict]]:
    """(syntax, node) for every JSON-LD and microdata node of a provider_sites feed item, nested ones included."""
    return ([("json-ld", node) for node in json_objects(item.get("json_ld") or [])]
            + [("microdata", node) for node in json_objects(item.get("microdata") or [])])


def extract_structured(item: dict) -> dict:
    """The provider's schema.org description on a page (a provider_sites feed item), as a small
    dict ({} when none)."""
    ranked: list[tuple[int, int, str, dict, list[str]]] = []
    for order, (syntax, node) in enumerate(schema_nodes(item)):
        types = _types(node)
        ranks = [ORG_TYPES.index(t) for t in types if t in ORG_TYPES]
        if ranks:
            ranked.append((min(ranks), order, syntax, node, types))
    if not ranked:
        return {}
    ranked.sort(key=lambda r: (r[0], r[1]))
    _, _, syntax, best, _ = ranked[0]
    result = _summary(best)
    for _, _, _, node, _ in ranked[1:]:  # fill gaps from the other organisation nodes
        other = _summary(node)
        for key in FIELDS:
            if not result.get(key) and other.get(key):
                result[key] = other[key]
    result["type"] = ORG_TYPES[ranked[0][0]]
    result["types"] = sorted({t for r in ranked for t in r[4]})
    result["syntax"] = syntax
    return result


def _service_names(value) -> Iterable[str]:
    """Names of the services in a schema.org value: a text, a service node, an Offer (its
    itemOffered), an OfferCatalog or ItemList (its elements), or a list of them."""
    if isinstance(value, str):
        text = _text(value)
        if text:
            yield text
    elif isinstance(value, list):
        for inner in value:
            yield from _service_names(inner)
    elif isinstance(value, dict):
        if "itemListElement" in value:
            yield from _service_names(value["itemListElement"])
        elif "itemOffered" in value or "item" in value:
            yield from _service_names(value.get("itemOffered") or value.get("item"))
        else:
            for key in SERVICE_NAMES:
                yield from _service_names(value.get(key) if isinstance(value.get(key), (str, list)) else None)


def _top_nodes(data) -> Iterable[dict]:
    """The page's own nodes: each JSON-LD object or microdata item, the members of an @graph, and
    the main entity of a page node (what the page is about; not what it mentions)."""
    for node in data if isinstance(data, list) else [data]:
        if isinstance(node, dict):
            yield node
            graph = node.get("@graph")
            yield from _top_nodes(graph if isinstance(graph, list) else [])
            main = node.get("mainEntity")
            yield from _top_nodes(main if isinstance(main, (dict, list)) else [])


def offered_services(item: dict) -> list[tuple[str, str]]:
    """(where, name) of each service the page's schema.org data says the organisation offers,
    where naming the property and syntax ("schema.org availableService (JSON-LD)")."""
    found: list[tuple[str, str]] = []
    for syntax, data in (("JSON-LD", item.get("json_ld") or []), ("microdata", item.get("microdata") or [])):
        for node in json_objects(data):
            for prop in SERVICE_PROPERTIES:
                found += [(f"schema.org {prop} ({syntax})", n) for n in _service_names(node.get(prop))]
        for node in _top_nodes(data):
            kind = next((t for t in _types(node) if t in SERVICE_TYPES), None)
            if kind:
                found += [(f"schema.org {kind} ({syntax})", n) for n in _service_names(
                    {k: node.get(k) for k in SERVICE_NAMES})]
    return list(dict.fromkeys(found))


def descriptions(item: dict) -> list[tuple[str, str]]:
    """(where, text) of the description of each organisation-like or service node of the page."""
    found: list[tuple[str, str]] = []
    for syntax, node in schema_nodes(item):
        kind = next((t for t in _types(node) if t in ORG_TYPES or t in SERVICE_TYPES), None)
        text = _text(node.get("description")) if kind else None
        if text:
            found.append((f"schema.org {kind} description ({'JSON-LD' if syntax == 'json-ld' else syntax})",
                          text[:MAX_DESCRIPTION]))
    return list(dict.fromkeys(found))
