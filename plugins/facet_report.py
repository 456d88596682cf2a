"""Whether a page's facets all finished: what each facet class of the page reports, per request,
so that plugins/response_cache.py keeps a table's JSON only when no facet of it timed out
(Datasette 0.65's JSON does not say so; its HTML does).

Every facet class registered with Datasette is given this report (plugins/column_facets.py's
hookwrapper wraps each in ReportsTimeouts), so a page whose facets ran under a report knows them
all. A helper module, imported as `plugins.facet_report` (one copy, whatever copies Datasette
makes of the hook modules that import it); no hooks of its own.
"""
from __future__ import annotations

import contextvars


class FacetReport:
    """What the facet classes of one request said. (No dataclass: Datasette loads this folder's
    modules outside sys.modules, where dataclasses cannot resolve annotations.)"""

    __slots__ = ("facets_ran", "timed_out")

    def __init__(self):
        self.facets_ran = 0  # facet classes that ran on the page
        self.timed_out = False  # any of them gave up on a facet


current: contextvars.ContextVar = contextvars.ContextVar("facet_report", default=None)


class ReportsTimeouts:
    """Mixed into a facet class: its results are reported to the request's FacetReport, if any."""

    async def facet_results(self):
        results, timed_out = await super().facet_results()
        report = current.get()
        if report is not None:
            report.facets_ran += 1
            report.timed_out = report.timed_out or bool(timed_out)
        return results, timed_out


_reported: dict[type, type] = {}


def reported(klass: type) -> type:
    """The facet class with ReportsTimeouts mixed in (one subclass per class)."""
    if issubclass(klass, ReportsTimeouts):
        return klass
    if klass not in _reported:
        _reported[klass] = type(klass.__name__, (ReportsTimeouts, klass), {"__doc__": klass.__doc__})
    return _reported[klass]
