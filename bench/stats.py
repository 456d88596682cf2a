"""Percentiles of latencies, one definition for every figure the bench prints."""
from __future__ import annotations

import statistics


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile (1..99) of a non-empty list, by statistics.quantiles' "inclusive"
    method (linear interpolation between the two nearest samples, as numpy's default): it never
    leaves the range of the samples, where the "exclusive" default extrapolates past the largest
    of a few. The p95 of 30 samples lies between the 28th and the 29th; the nearest-rank p95
    that the bench printed before its figures of issue 11 was the 29th."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]
