"""A national-scale SYNTHETIC FindTreatment.gov wide export (csv), for benchmarks only.

    python -m bench.synthetic_export --programs 100000 --out /tmp/treatment-bench/national_export.csv --seed 1

The file has the real export's layout, byte for byte in its header (the Massachusetts 2025 csv's
header, with its "    name1" and "n40 " quirks, CRLF line ends), and distributions drawn at run
time from the real files in ../shared/data/samhsa (read, never copied):

- facility types in the proportions of the Texas 2023 export (SOURCES.md: BUPREN 1,621, SU 458,
  MH 315, OTP 98 of 2,492 rows; the xlsx itself is slow to read, so its counts are quoted);
- every BUPREN and OTP row carries the real every-flag placeholder template of its type (from
  the Houston/Dallas csv), every SU and MH row the service-code set of a real SU or MH row
  (Massachusetts csv and Houston/Dallas csv), sampled with replacement;
- the shares of rows with a website, a second street line, an intake number and a phone
  extension, per facility type, as in those real rows;
- places: ZIP codes of every state from the `zipcodes` package (standard, active, with a
  centroid), uniformly over ZIPs (so states and cities weigh by their ZIP count: Houston,
  New York and Los Angeles come first), the row's point jittered ~1 km around the centroid;
- about 3% of programs as SU/MH twins: the same name, street and ZIP listed twice, once as SU
  and once as MH (sometimes with an extension on one phone), which the build merges.

Names and streets are invented from word lists; every row's second name (name2) is "SYNTHETIC",
phones are the fictional 555-01xx numbers and websites are on example.org, so no row can pass for a
real program. A `<out>.README.txt` beside the file says so (the wide format has no comment
lines). Rows are streamed to disk, so 1,000,000 programs need no more memory than 1,000.
The file is never written under the project's data/ folder.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SHARED_SAMHSA_DIR", ROOT.parent / "shared" / "data" / "samhsa"))
MA_CSV = "findtreatment_export_MA_2025-08-19.csv"  # the header, SU and MH rows
TX_CSV = "findtreatment_export_TX_2023_houston_dallas.csv"  # SU, MH, BUPREN and OTP rows
DEFAULT_OUT = Path("/tmp/treatment-bench/national_export.csv")

# Texas 2023 export, rows per facility type (SOURCES.md, "Counts (Texas 2023)").
TEXAS_TYPE_COUNTS = {"BUPREN": 1621, "SU": 458, "MH": 315, "OTP": 98}
TWIN_SHARE = 0.03
JITTER_DEGREES = 0.01  # standard deviation, ~1.1 km of latitude

LISTING_COLUMNS = (
    "name1", "name2", "street1", "street2", "city", "state", "zip", "zip4", "county", "phone",
    "intake_prompt", "intake1", "intake2", "website", "latitude", "longitude", "type_facility",
)
MARK = "SYNTHETIC"

# Invented words, nothing from the real files.
NAME_WORDS = (
    "Harbor", "New Hope", "Pathways", "Serenity", "Bridgeway", "Summit", "Cornerstone", "Riverside",
    "Lakeview", "Beacon", "Crossroads", "Horizon", "Evergreen", "Oak Grove", "Turning Point",
    "Second Chance", "Compass", "Northstar", "Clearview", "Haven", "Lighthouse", "Stepping Stones",
    "Meadowbrook", "Sunrise", "Willow", "Cedar Ridge", "Valley", "Heritage", "Unity", "Family First",
    "Open Door", "Milestone", "Anchor", "Keystone", "Greenfield", "Silver Lake", "Hillside", "Bluebird",
)
KINDS = {
    "SU": ("Recovery Center", "Addiction Services", "Treatment Center", "Substance Use Program",
           "Counseling Services", "Recovery Services", "Chemical Dependency Program", "Outpatient Services"),
    "MH": ("Behavioral Health", "Mental Health Center", "Counseling Center", "Psychiatric Services",
           "Family Services", "Community Mental Health Center", "Wellness Center", "Clinic"),
    "OTP": ("Opioid Treatment Program", "Comprehensive Treatment Center", "Methadone Clinic",
            "Medication Assisted Treatment"),
}
CORPORATE = ("", "", "", "", " Inc", " LLC", " Inc.", " PLLC")
FIRST_NAMES = (
    "Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Parker",
    "Robin", "Drew", "Cameron", "Reese", "Skyler", "Rowan", "Emerson", "Harper", "Logan", "Sage",
    "Dana", "Kendall", "Blair", "Shawn", "Jesse", "Marion", "Lee", "Kerry", "Devon", "Ellis",
)
LAST_NAMES = (
    "Ashford", "Brightwater", "Calloway", "Dunmore", "Everly", "Fairbanks", "Galloway", "Hawthorne",
    "Ingram", "Jessup", "Kingsley", "Lockwood", "Merriweather", "Northcott", "Oakes", "Pemberton",
    "Quimby", "Radcliffe", "Stanhope", "Thornbury", "Underhill", "Vance", "Whitfield", "Yardley",
    "Ainsworth", "Blackwood", "Crowley", "Delacroix", "Ellsworth", "Fenwick", "Gatling", "Holloway",
)
CREDENTIALS = ("MD", "DO", "NP", "PA-C", "APRN", "MD, PhD", "FNP-C")
STREET_NAMES = (
    "Main", "Oak", "Maple", "Washington", "Park", "Elm", "Lake", "Hill", "Cedar", "Pine", "Church",
    "Broadway", "Market", "Center", "Highland", "Jefferson", "Lincoln", "Madison", "Franklin",
    "Sunset", "River", "Spring", "Ridge", "Meadow", "College", "Walnut", "Chestnut", "Willow",
    "Mill", "Forest", "Prospect", "Union", "Liberty", "Railroad", "Commerce", "Industrial",
)
STREET_SUFFIXES = ("Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Drive", "Dr",
                   "Lane", "Way", "Parkway", "Highway")
DIRECTIONS = ("", "", "", "", "N ", "S ", "E ", "W ", "North ", "South ")
UNITS = ("Suite {n}", "Ste {n}", "Building {b}", "Unit {n}", "Floor {f}", "Room {n}")


class SourceError(RuntimeError):
    pass


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.is_file():
        raise SourceError(f"{path} not found: the real SAMHSA files must be in ../shared/data/samhsa "
                          "(or set SHARED_SAMHSA_DIR)")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        return next(reader), list(reader)


class Samples:
    """What is drawn from the real files: header, code sets per type, field shares per type."""

    def __init__(self, shared: Path = SHARED):
        self.raw_header, ma_rows = _read_csv(shared / MA_CSV)
        header = [h.strip().lower() for h in self.raw_header]
        missing = [c for c in LISTING_COLUMNS if c not in header]
        if missing:
            raise SourceError(f"{shared / MA_CSV}: header lacks {missing}")
        self.header = header
        self.code_columns = [h for h in header if h not in LISTING_COLUMNS]
        self.code_index = {c: i for i, c in enumerate(header)}
        self.code_sets: dict[str, list[frozenset[str]]] = {"SU": [], "MH": []}
        self.templates: dict[str, frozenset[str]] = {}
        field_counts: dict[str, Counter] = {}
        type_rows: Counter = Counter()
        tx_raw_header, tx_rows = _read_csv(shared / TX_CSV)
        templates: dict[str, Counter] = {"BUPREN": Counter(), "OTP": Counter()}
        for source_header, rows in (([h.strip().lower() for h in tx_raw_header], tx_rows), (header, ma_rows)):
            position = {c: i for i, c in enumerate(source_header)}
            codes_here = [(c, position[c]) for c in source_header if c not in LISTING_COLUMNS and c in self.code_index]
            for row in rows:
                cell = lambda c: row[position[c]].strip() if position[c] < len(row) else ""  # noqa: E731
                kind = cell("type_facility").upper()
                codes = frozenset(c for c, i in codes_here if i < len(row) and row[i].strip() == "1")
                if kind in self.code_sets:
                    self.code_sets[kind].append(codes)
                elif kind in templates:
                    templates[kind][codes] += 1
                else:
                    continue
                type_rows[kind] += 1
                counts = field_counts.setdefault(kind, Counter())
                counts["website"] += bool(cell("website"))
                counts["street2"] += bool(cell("street2"))
                counts["intake1"] += bool(cell("intake1"))
                counts["extension"] += "x" in cell("phone").lower()
        for kind, counter in templates.items():
            if not counter:
                raise SourceError(f"{shared / TX_CSV}: no {kind} row to take the placeholder template from")
            self.templates[kind] = counter.most_common(1)[0][0]
        for kind, sets in self.code_sets.items():
            if not sets:
                raise SourceError(f"no real {kind} rows found to sample service codes from")
        self.shares = {k: {f: c / type_rows[k] for f, c in counts.items()} for k, counts in field_counts.items()}
        self._flag_cells: dict[frozenset[str], list[str]] = {}

    def flag_cells(self, codes: frozenset[str]) -> list[str]:
        """The service columns of a row with these codes set: "1" or blank, in header order."""
        cells = self._flag_cells.get(codes)
        if cells is None:
            cells = ["1" if c in codes else "" for c in self.code_columns]
            self._flag_cells[codes] = cells
        return cells


def load_places(weighting: str = "zip") -> list[tuple[str, str, str, str, float, float, str]]:
    """(zip, city, state, county, lat, lon, area code) of every standard, active US ZIP with a centroid."""
    import zipcodes

    from common.places import STATE_CODES

    places = []
    for z in zipcodes.list_all():
        if z["zip_code_type"] != "STANDARD" or not z["active"] or not z["lat"] or not z["long"]:
            continue
        if z["state"] not in STATE_CODES:
            continue
        county = (z.get("county") or "").removesuffix(" County").removesuffix(" Parish").removesuffix(" Borough")
        area = (z.get("area_codes") or ["555"])[0]
        places.append((z["zip_code"], z["city"], z["state"], county, float(z["lat"]), float(z["long"]), area))
    if not places:
        raise SourceError("the zipcodes package lists no ZIP code")
    return places


def _phone(rng: random.Random, area: str, extension_share: float) -> str:
    # 555-0100 to 555-0199 are reserved for fiction in the North American Numbering Plan.
    phone = f"{area}-555-01{rng.randrange(100):02d}"
    if rng.random() < extension_share:
        phone += f" x{rng.randrange(1, 9999)}"
    return phone


def _facility_name(rng: random.Random, kind: str, city: str) -> str:
    if kind == "BUPREN":
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}, {rng.choice(CREDENTIALS)}"
        if rng.random() < 0.3:
            name = "Dr. " + name
        if rng.random() < 0.05:
            name = f" {name}, "  # the export's stray spaces and commas around practitioners' names
        return name
    first = city if rng.random() < 0.15 else rng.choice(NAME_WORDS)
    return f"{first} {rng.choice(KINDS[kind])}{rng.choice(CORPORATE)}"


def _street(rng: random.Random) -> tuple[str, str]:
    street1 = (f"{rng.randrange(1, 20000)} {rng.choice(DIRECTIONS)}{rng.choice(STREET_NAMES)} "
               f"{rng.choice(STREET_SUFFIXES)}")
    unit = rng.choice(UNITS).format(n=rng.randrange(100, 999), b=rng.choice("ABCD"), f=rng.randrange(2, 9))
    return street1, unit


def rows(programs: int, seed: int = 1, *, samples: Samples | None = None, places=None,
         twin_share: float = TWIN_SHARE, stats: Counter | None = None):
    """Yield the data rows (lists of cells, header order) of `programs` synthetic programs."""
    samples = samples or Samples()
    places = places or load_places()
    stats = stats if stats is not None else Counter()
    rng = random.Random(seed)
    kinds = list(TEXAS_TYPE_COUNTS)
    weights = list(TEXAS_TYPE_COUNTS.values())
    blank_codes = frozenset()

    for number in range(1, programs + 1):
        zip_code, city, state, county, lat, lon, area = rng.choice(places)
        twin = rng.random() < twin_share
        kind = "SU" if twin else rng.choices(kinds, weights)[0]
        shares = samples.shares.get(kind, {})
        street1, unit = _street(rng)
        lat = lat + rng.gauss(0, JITTER_DEGREES)
        lon = lon + rng.gauss(0, JITTER_DEGREES / max(0.2, math.cos(math.radians(lat))))
        phone = _phone(rng, area, shares.get("extension", 0))
        website = (f"https://{rng.choice(NAME_WORDS).lower().replace(' ', '')}-{number}.example.org"
                   if rng.random() < shares.get("website", 0) else "")
        base = {
            "name1": _facility_name(rng, kind, city),
            "name2": MARK,
            "street1": street1,
            "street2": unit if rng.random() < shares.get("street2", 0) else "",
            "city": city.upper() if rng.random() < 0.03 else city,  # the export's all-caps spellings
            "state": state,
            "zip": zip_code,
            "zip4": "",
            "county": county.upper() if rng.random() < 0.3 else county,
            "phone": phone,
            "intake_prompt": "",
            "intake1": _phone(rng, area, 0) if rng.random() < shares.get("intake1", 0) else "",
            "intake2": "",
            "website": website,
            "latitude": f"{lat:.7f}",
            "longitude": f"{lon:.7f}",
            "type_facility": kind,
        }
        listings = [(kind, base)]
        if twin:
            other = dict(base, type_facility="MH")
            if rng.random() < 0.3:
                other["phone"] = phone.split(" x")[0] + f" x{rng.randrange(1, 9999)}"
            listings.append(("MH", other))
            stats["twins"] += 1
        for listing_kind, row in listings:
            if listing_kind in samples.templates:
                codes = samples.templates[listing_kind]
            else:
                codes = rng.choice(samples.code_sets.get(listing_kind) or [blank_codes])
            stats[listing_kind] += 1
            stats["rows"] += 1
            yield [row[c] for c in LISTING_COLUMNS] + samples.flag_cells(codes)
        stats["programs"] += 1


README_TEXT = """\
SYNTHETIC DATA - NOT REAL TREATMENT PROGRAMS

{name} was generated by `python -m bench.synthetic_export` (treatment program directory,
bench/synthetic_export.py) for performance benchmarks only: {programs:,} invented programs in
{rows:,} rows ({types}; {twins:,} SU/MH twin pairs), seed {seed}, {when}.

It has the layout of SAMHSA's FindTreatment.gov wide export (the header of the Massachusetts 2025
csv) and distributions drawn from the real files in ../shared/data/samhsa, but every name, street
and phone is made up: every row's second name (name2) is "SYNTHETIC", phones are the fictional
555-01xx numbers, websites are on example.org, and coordinates are jittered ZIP centroids.
Never publish it, never mix it into a real build, and never copy it into the project's data/.
"""


def readme_path(out: Path) -> Path:
    return out.with_name(out.name + ".README.txt")


def generate(out: Path, programs: int, seed: int = 1, *, shared: Path = SHARED, quiet: bool = True) -> Counter:
    """Write the synthetic export to `out` (and its README beside it); return the counts."""
    out = Path(out).expanduser().resolve()
    data_dir = (ROOT / "data").resolve()
    if out == data_dir or data_dir in out.parents:
        raise SourceError(f"refusing to write synthetic data under {data_dir}: use /tmp (default {DEFAULT_OUT})")
    samples = Samples(shared)
    places = load_places()
    out.parent.mkdir(parents=True, exist_ok=True)
    stats: Counter = Counter()
    temp = out.with_name(f".{out.name}.writing-{os.getpid()}")
    started = time.monotonic()
    try:
        with temp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(samples.raw_header)
            for i, row in enumerate(rows(programs, seed, samples=samples, places=places, stats=stats), 1):
                writer.writerow(row)
                if not quiet and i % 100_000 == 0:
                    print(f"  {i:,} rows ...", file=sys.stderr, flush=True)
        os.replace(temp, out)
    finally:
        temp.unlink(missing_ok=True)
    types = ", ".join(f"{k} {stats[k]:,}" for k in ("BUPREN", "SU", "MH", "OTP"))
    readme_path(out).write_text(README_TEXT.format(
        name=out.name, programs=stats["programs"], rows=stats["rows"], types=types, twins=stats["twins"],
        seed=seed, when=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    ), encoding="utf-8")
    stats["seconds"] = round(time.monotonic() - started, 1)  # type: ignore[assignment]
    return stats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--programs", type=int, default=100_000, help="programs to invent (default 100000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"csv to write (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shared", type=Path, default=SHARED, help="folder of the real SAMHSA files")
    args = parser.parse_args(argv)
    if args.programs < 1:
        parser.error("--programs must be at least 1")
    try:
        stats = generate(args.out, args.programs, args.seed, shared=args.shared, quiet=False)
    except SourceError as exc:
        print(f"synthetic export failed: {exc}", file=sys.stderr)
        return 1
    types = ", ".join(f"{k} {stats[k]:,}" for k in ("BUPREN", "SU", "MH", "OTP"))
    print(f"Wrote {stats['rows']:,} SYNTHETIC rows ({stats['programs']:,} programs: {types}; "
          f"{stats['twins']:,} SU/MH twins) in {stats['seconds']} s -> {Path(args.out)} "
          f"(+ {readme_path(Path(args.out)).name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
