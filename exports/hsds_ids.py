"""Ids of HSDS records: UUIDs derived from the directory's own stable ids, the same on every run."""
from __future__ import annotations

import uuid

# Every exported id is uuid5 of this namespace and a key made of our own ids. Changing it changes
# every id of every package ever published: never do.
NAMESPACE = uuid.UUID("0e8f1dfc-5a65-45fc-b21d-e0acdda05081")


def hsds_id(kind: str, *keys: str) -> str:
    """A UUID for an HSDS record, the same for the same kind and keys on every run."""
    return str(uuid.uuid5(NAMESPACE, ":".join((kind, *keys))))
