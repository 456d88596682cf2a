"""The build's work per row, apart from SQLite: a feed line becomes a staged listing or a
reject; a program's staged listings become its rows in every table. It runs in worker
processes (pipelines/workers.py), so everything here is plain data in, plain data out."""
from __future__ import annotations

import itertools
import json
import marshal
import operator
import os
import re
from contextlib import closing
from json.encoder import encode_basestring
from pathlib import Path
from typing import NamedTuple

from common import normalize as n
from common import vocab
from pipelines.coverage import tally
from pipelines.merge import RULE_SAME_KEY, Program, key_text, website_host
from pipelines.names import WholeName
from pipelines.records import Listing, Reject, listing_from_item, pack_listing, scrub_item, unpack_listing

_encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder: json.dumps(...) makes one per call


def _json(values) -> str:
    """JSON as json.dumps(values, ensure_ascii=False) writes it. Most values are lists of text
    (a program has about a dozen) or objects of text (its map popup): those are joined here with
    the encoder's own string escaping, character for character what the encoder writes, without
    its per-call setup. (A value that is not text makes encode_basestring raise: the encoder
    writes those.)"""
    if type(values) is list:
        if not values:
            return "[]"
        try:  # encode_basestring takes text only: anything else raises, and the encoder writes it
            return "[" + ", ".join(map(encode_basestring, values)) + "]"
        except TypeError:
            pass
    elif type(values) is dict:
        try:
            return "{" + ", ".join([f"{encode_basestring(k)}: {encode_basestring(v)}" for k, v in values.items()]) + "}"
        except TypeError:
            pass
    return _encode(values)


# A JSON escape of a lone surrogate ("\\ud800"): text no UTF-8 file or SQLite column can hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def parse_feed_line(line: str, where: str):
    """One feed line as an item, or a Reject saying why not. Lone surrogates ("\\ud800" escapes,
    which no UTF-8 file or SQLite text can hold) are replaced here, once, for the whole build."""
    return _parse_feed_line(line, where)[0]


def _parse_feed_line(line: str, where: str):
    """(item or Reject, whether lone surrogates were replaced in it)."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return Reject(f"{where}: not JSON ({exc.msg})", {"line": n.scrub(line[:2000])}), False
    except RecursionError:
        return Reject(f"{where}: JSON nested too deeply", {"line": n.scrub(line[:2000])}), False
    if _SURROGATE_ESCAPE.search(line):
        return scrub_item(item), True
    return item, False


class StagedRow(NamedTuple):
    """A listing as pass 1 stages it (temp.staged): its merge key and what the merge rules compare,
    the packed Listing (records.pack_listing), and where its raw JSON is in the feed (`raw` only
    when it had to be rewritten)."""
    match_key: str
    bucket: str
    phone: str | None
    host: str | None
    facility_type: str | None
    placeholder: int
    listing: bytes
    feed: int
    offset: int
    length: int
    raw: str | None


STAGED_COLUMNS = StagedRow._fields


class StagedListing(NamedTuple):
    """A feed line that became a listing: its staged row and what the build counts of it."""
    row: StagedRow
    source: str
    city_query: str | None
    fetched_at: str
    placeholder: bool


class StagedReject(NamedTuple):
    """A feed line that became a reject: which feed, and its rejects row."""
    feed_index: int
    row: dict


class FeedBlock(NamedTuple):
    """A run of whole lines of one feed, one worker task: the worker reads its bytes itself, so
    the feed does not pass through the main process and a pipe on its way to be parsed."""
    feed: int  # the feed's index in the build's list
    first_line: int  # the line number of its first line
    offset: int  # the byte offset of its first line in the feed
    length: int


def block_lines(block: FeedBlock, path: Path):
    """(feed index, line number, byte offset, line) of every line with text in the block, as
    iterating the feed file in binary gives its lines (each up to and with its b"\n")."""
    with path.open("rb") as fh:
        fh.seek(block.offset)
        pieces = fh.read(block.length).split(b"\n")
    last = pieces.pop()  # what follows the block's last newline: nothing, or a last line without one
    offset = block.offset
    for number, piece in enumerate(pieces, start=block.first_line):
        if piece and not piece.isspace():
            yield block.feed, number, offset, piece + b"\n"
        offset += len(piece) + 1
    if last and not last.isspace():
        yield block.feed, block.first_line + len(pieces), offset, last


def stage_block(block: FeedBlock, feeds: list[Path], known_code_count: int) -> list[StagedListing | StagedReject]:
    """stage_lines of the lines of one block of a feed."""
    return stage_lines(block_lines(block, feeds[block.feed]), feeds, known_code_count)


def stage_lines(chunk, feeds: list[Path], known_code_count: int) -> list[StagedListing | StagedReject]:
    """Feed lines (feed index, line number, byte offset, line), each as a StagedListing or a
    StagedReject. The listing is packed (records.pack_listing), because this build wrote it and
    this build reads it back; its raw JSON stays in the feed (read back by offset), unless lone
    surrogates had to be replaced."""
    out = []
    for feed_index, number, offset, line in chunk:
        feed = feeds[feed_index]
        text = line.decode("utf-8", errors="replace").strip()
        item, scrubbed = _parse_feed_line(text, f"{feed.name} line {number}")
        result = item if isinstance(item, Reject) else listing_from_item(item, known_code_count)
        if isinstance(result, Reject):
            out.append(StagedReject(feed_index, reject_row(result, feed, number)))
            continue
        key = key_text(result.merge_key)
        row = StagedRow(
            match_key=key, bucket=key.split("|", 2)[2], phone=result.phone.e164 if result.phone else None,
            host=website_host(result.website), facility_type=result.facility_type,
            placeholder=int(result.placeholder), listing=pack_listing(result),
            feed=feed_index, offset=offset, length=len(line),
            raw=_json(item) if scrubbed else None,  # the item as stored, not the line
        )
        out.append(StagedListing(row, result.source, result.city_query, result.fetched_at, result.placeholder))
    return out


class ProgramTables(NamedTuple):
    """A program's rows in every table, as a worker makes them."""
    program: dict  # the programs row
    care_levels: list[dict]  # program_care_levels rows
    services: ServiceLists
    listings: list[tuple]  # listings values (LISTING_COLUMNS), without raw
    facet_values: list[tuple]  # program_facet_values rows: (program id, facet, value)


class StagedMember(NamedTuple):
    """A staged listing joined to its program, as pass 3 selects them (build._program_runs), in
    program id order: the member, and where its raw JSON is (its feed and byte range, or the
    rewritten text itself)."""
    program_id: str
    listing: bytes
    match_key: str
    rule: str | None
    feed: int
    offset: int
    length: int
    raw: str | None


CARE_LEVEL_COLUMNS = ("program_id", "care_level", "source", "evidence", "source_url", "source_ref", "seen")
_care_level_values = operator.itemgetter(*CARE_LEVEL_COLUMNS)


class ChunkRows(NamedTuple):
    """The rows of a run of whole programs in every table, as values in column order: what a
    worker sends back, marshalled (one bytes object through the pipe, not thousands of dicts)."""
    program_columns: tuple[str, ...]
    programs: list[tuple]
    care_levels: list[tuple]  # CARE_LEVEL_COLUMNS
    services: list[tuple]  # (program id, *ServiceLists)
    listings: list[tuple]  # LISTING_COLUMNS, then raw
    areas: list[str]  # each program's area ("Houston, TX"), or its "City, ST"
    facet_values: list[tuple]  # program_facet_values rows
    coverage: tuple  # coverage.tally of the listings


def program_chunk_rows(run: tuple[list[tuple], dict[str, list[dict]]], feeds: list[Path], reference) -> bytes:
    """The rows (ChunkRows, marshalled) of a run of programs: their staged members (StagedMember
    fields, grouped by program id) and their website findings by program id. A listing's raw
    JSON is read back from its feed here, in the worker."""
    members, site_rows = run
    out = ChunkRows((), [], [], [], [], [], [], ())
    with closing(FeedText(feeds)) as feed_text:
        for program_id, group in itertools.groupby(map(StagedMember._make, members), key=operator.itemgetter(0)):
            group = list(group)
            tables = program_tables(program_id, group, site_rows.get(program_id, ()), reference)
            row = tables.program
            out = out._replace(program_columns=tuple(row)) if not out.program_columns else out
            out.programs.append(tuple(row.values()))
            out.care_levels.extend(map(_care_level_values, tables.care_levels))
            out.services.append((program_id, *tables.services))
            out.listings.extend((*values, m.raw or feed_text.read(m.feed, m.offset, m.length))
                                for values, m in zip(tables.listings, group))
            out.areas.append(row["area"] or f"{row['city']}, {row['state']}")
            out.facet_values.extend(tables.facet_values)
    out = out._replace(coverage=tally(map(_coverage_fields, out.listings)))
    return marshal.dumps(tuple(out))


class FeedText:
    """A listing's raw JSON read back from its feed by offset: the feed on disk holds it, so the
    build's staging table does not have to hold it again."""

    def __init__(self, feeds: list[Path]):
        self.files = [os.open(feed, os.O_RDONLY) for feed in feeds]

    def read(self, feed_index: int, offset: int, length: int) -> str:
        return os.pread(self.files[feed_index], length, offset).decode("utf-8", errors="replace").strip()

    def close(self) -> None:
        for fd in self.files:
            os.close(fd)


def program_from_staged(program_id: str, group: list[StagedMember]) -> Program:
    """A program from its staged members, in feed order."""
    first = group[0]
    merged_by = {
        i: RULE_SAME_KEY if m.match_key == first.match_key else (m.rule or first.rule or RULE_SAME_KEY)
        for i, m in enumerate(group) if i
    }
    return Program(program_id, [unpack_listing(m.listing) for m in group], merged_by)


def program_tables(program_id: str, group: list, site_rows, reference) -> ProgramTables:
    """A program's rows in every table, from its staged members and its website findings."""
    program = program_from_staged(program_id, group)
    care_levels = [
        {"program_id": program.id, "care_level": level, "source": "SAMHSA service codes",
         "evidence": ", ".join(codes), "source_url": listing.source_url,
         "source_ref": listing.source_ref, "seen": listing.seen}
        for level, listing, codes in program.care_level_evidence()
    ] + list(site_rows)
    listings = [listing_values(program, i, listing, member.match_key)
                for i, (listing, member) in enumerate(zip(program.listings, group))]
    arrays = program_arrays(program, site_rows)
    return ProgramTables(program_row(program, reference, site_rows, arrays), care_levels, service_lists(program),
                         listings, facet_value_rows(program.id, arrays))


def facet_value_rows(program_id: str, arrays: dict[str, list[str]]) -> list[tuple]:
    """The program's program_facet_values rows: one per value of each faceted array column
    (vocab.FACET_ARRAYS), made here from the lists rather than by parsing the column's JSON
    again in SQL after the programs are written (schema.facet_values does that for programs
    carried over from the previous build)."""
    return [(program_id, column, value) for column in vocab.FACET_ARRAYS
            for value in (arrays[column] if len(arrays[column]) < 2 else dict.fromkeys(arrays[column]))]


LISTING_COLUMNS = ("program_id", "match_key", "source", "source_url", "source_ref", "fetched_at", "source_date",
                   "city_query", "facility_type", "placeholder", "merged_by", "warnings")  # then raw


_coverage_fields = operator.itemgetter(*map(LISTING_COLUMNS.index, (
    "program_id", "city_query", "source", "source_url", "source_date", "fetched_at")))  # what coverage.tally takes


def listing_values(program: Program, index: int, listing: Listing, match_key: str) -> tuple:
    """The listings row (LISTING_COLUMNS) of a program's listing number `index`, without `raw`."""
    return (
        program.id, match_key, listing.source, listing.source_url, listing.source_ref, listing.fetched_at,
        listing.source_date,
        listing.city_query, listing.facility_type, int(listing.placeholder), program.merged_by.get(index),
        _json(listing.warnings) if listing.warnings else None,
    )


def reject_row(reject: Reject, feed: Path, line: int) -> dict:
    item = reject.item if isinstance(reject.item, dict) else {}
    text = lambda key: item.get(key) if isinstance(item.get(key), str) else None  # noqa: E731
    return {
        "source": text("source"),
        "source_url": text("source_url") or str(feed),
        "source_ref": text("source_ref") or f"{feed.name} line {line}",
        "fetched_at": text("fetched_at"),
        "city_query": text("city_query"),
        "reason": reject.reason,
        "raw": _json(reject.item),
    }


def program_row(program: Program, reference, site_rows: list[dict] = (), arrays: dict | None = None) -> dict:
    """The programs row of a merged program (the columns of schema.PROGRAMS_COLUMNS); `arrays`
    are its program_arrays when the caller made them already."""
    arrays = arrays or program_arrays(program, site_rows)
    first = program.first
    phones = program.phones()
    websites = program.websites()
    latitude, longitude, approximate = program.location()
    seen = sorted(l.seen for l in program.listings)
    whole = first.whole_name
    return {
        "id": program.id,
        "name": whole.name,
        "alternate_name": whole.second,
        "address": first.address,
        "city": first.city,
        "state": first.state,
        "zip": first.zip,
        "county": first.county,
        # The requested area ("Houston, TX": a centre and a radius) the program was collected for.
        "area": first.city_query,
        **_phone_columns(program, phones),
        "website": websites[0] if websites else None,
        "websites": _json(websites),
        "latitude": latitude,
        "longitude": longitude,
        "location_approximate": int(approximate),
        "facility_type": _json(arrays["facility_type"]),
        **{column: _json(arrays[column]) for column in ("care_levels", "website_care_levels", "care_levels_any")},
        **_service_columns(program, reference, arrays),
        "sources": _json(sorted({l.source for l in program.listings})),
        "source_urls": _json(list(dict.fromkeys(l.source_url for l in program.listings))),
        "listing_count": len(program.listings),
        "first_seen": seen[0],
        "last_seen": seen[-1],
        "status": "listed",
        "missing_since": None,
        "popup": _popup(program, whole, phones),
    }


def _phone_columns(program: Program, phones: list) -> dict:
    main = phones[0] if phones else None
    return {
        "phone": main.display if main else None,
        "phone_e164": main.e164 if main else None,
        "phone_extension": main.extension if main else None,
        "phone_tel": main.tel_uri if main else None,
        "phones": _json([p.display for p in phones]),
        "intake_phone": next((l.intake_phone.display for l in program.listings if l.intake_phone), None),
        "intake_phones": _json([p.display for p in program.intake_phones()]),
    }


SERVICE_FACETS = ("payment", "ages", "populations", "languages", "medications")


def program_arrays(program: Program, site_rows: list[dict]) -> dict[str, list[str]]:
    """The lists behind the row's JSON array columns (facility types; SAMHSA's levels, the
    website's, and either, each in the vocabulary's order; the facets of its service codes) and
    the telehealth facet's: made once, for the row and for program_facet_values."""
    stated = {r["care_level"] for r in site_rows}
    facets = program.facets()
    return {
        "facility_type": program.facility_types(),
        "care_levels": program.care_levels,
        "website_care_levels": [lv for lv in vocab.care_levels() if lv in stated],
        "care_levels_any": [lv for lv in vocab.care_levels() if lv in stated or lv in program.care_levels],
        **{facet: facets.get(facet, []) for facet in SERVICE_FACETS},
        "telehealth": facets.get("telehealth", []),
    }


def _service_columns(program: Program, reference, arrays: dict[str, list[str]]) -> dict:
    """The facets derived from the service codes, and the services in words for full-text search."""
    codes = program.service_codes
    detail = program.has_service_detail
    names = [code.name for code in map(reference.codes.get, codes) if code is not None]
    names += [u.get("text", "") for l in program.listings for u in l.unmapped_services]
    return {
        **{facet: _json(arrays[facet]) for facet in SERVICE_FACETS},
        # Unknown, not "no", when the source gave no service detail.
        "telehealth": int(bool(arrays["telehealth"])) if detail else None,
        "has_service_detail": int(detail),
        "service_count": len(codes),
        "services_text": "; ".join(dict.fromkeys(n for n in names if n)) or None,
    }


def _popup(program: Program, whole: WholeName, phones: list) -> str:
    """The map marker's popup (datasette-cluster-map): name, levels, phone, address, and a link
    to the program's page relative to the page the map is on (a table or query page,
    /<database>/<name>): right under any base_url and database name, so nothing stored depends
    on where the database is served."""
    first = program.first
    return _json({
        "title": whole.name,
        "description": " · ".join(filter(None, [
            ", ".join(vocab.care_levels()[lv].label for lv in program.care_levels) or "No service detail listed",
            phones[0].display if phones else None,
            first.address,
        ])),
        "link": f"../program/{program.id}",
    })


class ServiceLists(NamedTuple):
    """A program's services as program_services is filled from them (schema.program_services)."""
    codes: str  # its service codes, a JSON array
    unmapped: str | None  # the texts no code matched: a JSON array of [text, category code, name], or null
    code_count: int  # the length of each array
    unmapped_count: int


def service_lists(program: Program) -> ServiceLists:
    """The program's service codes and the texts no code matched: program_services is filled
    from these by SQL (schema.program_services), which costs far less than a million inserts
    from Python."""
    unmapped = {}
    for listing in program.listings:
        for u in listing.unmapped_services:
            unmapped.setdefault((u.get("category_code"), u.get("text")), [u.get("text"), u.get("category_code"), u.get("category_name")])
    return ServiceLists(_json(program.service_codes), _json(list(unmapped.values())) if unmapped else None,
                        len(program.service_codes), len(unmapped))
