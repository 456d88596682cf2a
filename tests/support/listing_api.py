"""A stand-in for FindTreatment.gov's JSON API that makes up its listings, on 127.0.0.1: as many
as a test asks for (`rows`, changeable between crawls, to shrink a source), paged by the
request's pageSize, for a radius search (every row) or a state search (limitType=0: the rows of
the state whose SAMHSA id is asked for, from data/samhsa_state_ids.csv). `state_rows` gives a
state another number of rows; the first `without_phone` rows have no phone. Every request is
recorded (path, query), and each search with when it arrived and was answered (`timed`), after
`delay` seconds."""
from __future__ import annotations

import json
import threading
import time

from werkzeug import Request, Response

from tests.support.api_server import API_PATH, ROBOTS_TXT
from tests.support.stand_in import StandIn, answer

# Places for made-up rows: (city, state, zip, latitude, longitude).
PLACES = {"TX": ("Houston", "TX", "77002", 29.7569, -95.3656), "MA": ("Boston", "MA", "02108", 42.3576, -71.0647)}
STATE_IDS = {"11": "TX", "3": "MA"}


def made_up_row(number: int, state: str = "TX", phone: bool = True) -> dict:
    city, state, zip_code, lat, lon = PLACES[state]
    return {"_irow": number, "name1": f"Made-up Recovery {state} {number}", "name2": None,
            "street1": f"{number} Main Street", "street2": None, "city": city, "state": state, "zip": zip_code,
            "phone": f"713-555-{number:04d}" if phone else None, "type_facility": "SU", "intake1": None,
            "hotline1": None, "website": None, "latitude": f"{lat + number * 1e-4:.6f}",
            "longitude": f"{lon:.6f}", "miles": 1.0,
            "services": [{"f1": "Type of Care", "f2": "TC", "f3": "Substance use treatment"}]}


class ListingApi(StandIn):
    path = API_PATH

    def __init__(self, rows: int = 60, states: tuple[str, ...] = ("TX",), without_phone: int = 0, delay: float = 0):
        super().__init__()
        self.rows, self.states, self.without_phone, self.delay = rows, states, without_phone, delay
        self.timed: list[tuple[float, float]] = []
        self.state_rows: dict[str, int] = {}
        self.seen: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def listings(self, query: dict) -> list[dict]:
        states = [STATE_IDS.get(query.get("limitValue", ""))] if query.get("limitType") == "0" else self.states
        return [made_up_row(n, state, phone=n > self.without_phone)
                for state in states if state for n in range(1, self.state_rows.get(state, self.rows) + 1)]

    def handle(self, request: Request) -> Response:
        query = request.args.to_dict()
        with self.lock:
            self.seen.append((request.path, query))
        if request.path == "/robots.txt":
            return answer(200, "text/plain", ROBOTS_TXT)
        arrived = time.monotonic()
        time.sleep(self.delay)
        rows = self.listings(query)
        size, page = int(query.get("pageSize", "30")), int(query.get("page", "1"))
        pages = max(1, -(-len(rows) // size))
        body = {"page": page, "totalPages": pages, "recordCount": len(rows), "rows": rows[(page - 1) * size: page * size]}
        with self.lock:
            self.timed.append((arrived, time.monotonic()))
        return answer(200, "application/json", json.dumps(body).encode())

    def overlaps(self) -> int:
        """How many searches arrived while another was still being answered."""
        with self.lock:
            timed = sorted(self.timed)
        return sum(1 for (_, answered), (arrived, _) in zip(timed, timed[1:]) if arrived < answered)

    def searches(self) -> list[dict]:
        with self.lock:
            return [q for p, q in self.seen if p == API_PATH]
