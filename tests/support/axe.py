"""axe-core, the accessibility engine, run inside the browser on a page Playwright has open.

axe-core comes from the npm registry (package.json, package-lock.json; `make install` runs
`npm ci`), so the rules are Deque's, pinned, not a reimplementation here. The checks are the WCAG
2.0, 2.1 and 2.2 A and AA rules (the tags below); axe's own best-practice rules are left out.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from tests.support import ROOT

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
IMPACTS = ("critical", "serious", "moderate", "minor")
# Screenshots of every page checked, beside the other browser tests' (test-output/ is git-ignored).
ARTIFACTS = ROOT / "test-output" / "accessibility"
# Every page's counts, one line each, printed at the end of the run by tests/conftest.py (the
# line a test prints itself is not shown when the tests run in several processes).
COUNTS = ARTIFACTS / "axe-counts.txt"

# Every link and button a person can reach, with what a screen reader calls it (axe's own
# accessible-name computation) and the box a finger or pointer has to hit. `inline` is WCAG 2.5.8's
# inline exception: a link inside a sentence, sized by the line of text around it.
# axe.setup builds the tree its name computation reads; teardown frees it for the next axe.run.
TARGETS_JS = """() => { axe.setup(document); try { return [...document.querySelectorAll(
        'a[href], button, [role=button], [role=link], summary')]
    .filter(e => e.checkVisibility({visibilityProperty: true}))  // not in a closed <details> either
    .map(e => {
        const box = e.getBoundingClientRect(), style = getComputedStyle(e);
        const parentText = (e.parentElement.innerText || '').replace(e.innerText || '', '').trim();
        return {
            html: e.outerHTML.slice(0, 160),
            name: axe.commons.text.accessibleText(e).trim(),
            width: box.width, height: box.height,
            inline: style.display === 'inline' && parentText.length > 0,
        };
    }); } finally { axe.teardown(); } }"""


def axe_source() -> str:
    """axe.min.js as npm installed it; a clear failure when `make install` has not run npm."""
    assert AXE_JS.is_file(), f"{AXE_JS} missing: run `make install` (it runs `npm ci`; needs npm)"
    return AXE_JS.read_text(encoding="utf-8")


def inject(page) -> None:
    """Load axe into the page. The site's Content-Security-Policy (plugins/security_headers.py)
    allows only the inline scripts the page was sent with, so a <script> tag added here would be
    refused. Playwright's page.evaluate runs the source through the DevTools protocol, which the
    page's CSP does not govern; so the page is checked under its real policy (no bypass_csp)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    assert page.evaluate("typeof window.axe === 'object' && window.axe.version"), "axe-core did not load"


def run_axe(page) -> dict:
    """axe.run over the whole page with the WCAG A/AA tags; the raw result."""
    inject(page)
    return page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )


def by_impact(result: dict) -> dict[str, list[dict]]:
    """Violations grouped by impact: {impact: [{id, help, nodes: [selector, ...]}, ...]}, every
    impact present (empty lists where none)."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for violation in result["violations"]:
        grouped[violation["impact"] or "minor"].append({
            "id": violation["id"],
            "help": violation["help"],
            "nodes": [" ".join(map(str, node["target"])) for node in violation["nodes"]],
        })
    return {impact: grouped.get(impact, []) for impact in IMPACTS}


def counts(grouped: dict[str, list[dict]]) -> dict[str, int]:
    """Elements in violation per impact (axe counts a rule once per page, its nodes per element)."""
    return {impact: sum(len(v["nodes"]) for v in grouped[impact]) for impact in IMPACTS}


def describe(grouped: dict[str, list[dict]], impacts=IMPACTS, nodes: int = 5) -> str:
    """The violations as lines a person can act on: impact, rule, what it asks, where."""
    lines = []
    for impact in impacts:
        for v in grouped[impact]:
            where = "; ".join(v["nodes"][:nodes]) + (f" (+{len(v['nodes']) - nodes} more)" if len(v["nodes"]) > nodes else "")
            lines.append(f"  {impact} {v['id']}: {v['help']} — {where}")
    return "\n".join(lines)


def summary(label: str, grouped: dict[str, list[dict]]) -> str:
    """One line: `axe <label>: critical=0 serious=0 moderate=1 minor=0`, also kept in COUNTS."""
    line = f"axe {label}: " + " ".join(f"{impact}={n}" for impact, n in counts(grouped).items())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with COUNTS.open("a", encoding="utf-8") as fh:  # short appends: whole lines from each process
        fh.write(line + "\n")
    return line


def check_page(page, label: str) -> dict[str, list[dict]]:
    """Run axe on the open page, save a screenshot of its first screen under ARTIFACTS (what a
    phone shows first; a whole table page at 375 px would be tens of thousands of pixels tall),
    and return the violations by impact."""
    grouped = by_impact(run_axe(page))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / (re.sub(r"[^A-Za-z0-9.=-]+", "-", label).strip("-") + ".png")))
    return grouped


def targets(page) -> list[dict]:
    """Every visible link and button: html, accessible name, width, height, inline."""
    inject(page)
    return page.evaluate(TARGETS_JS)


def unnamed_or_small(page, minimum: float = 24) -> tuple[list[str], list[str]]:
    """(links/buttons with no accessible name, those smaller than minimum x minimum px that are
    not inline text), as their html."""
    found = targets(page)
    unnamed = [t["html"] for t in found if not t["name"]]
    small = [f"{t['width']:.0f}x{t['height']:.0f} {t['html']}" for t in found
             if not t["inline"] and (t["width"] < minimum or t["height"] < minimum)]
    return unnamed, small
