"""No link on any page goes anywhere but a web address, a phone or a mail (issue 15: a query's
`popup` column `{"link": "javascript:alert(document.domain)"}` became a live link in
datasette-cluster-map's popup).

The Content-Security-Policy (plugins/security_headers.py) already stops the browser from running a
`javascript:` URL; this is the second wall, so such a link is not even clickable. A small script at
the end of every page removes the href of any link whose address is not http, https, tel, mailto or
sms: the links the page was sent with, and every link added or changed afterwards (a
MutationObserver sees the map's popups as they open, before a click can reach them). The link's
text stays, inert. Server-side rows are not rewritten: the JSON and CSV answer what the database or
the query holds; Datasette's own pages link only http(s) values (its render_cell), and the
directory's templates check websites the same way.
"""
from __future__ import annotations

from datasette import hookimpl

SAFE_PROTOCOLS = ("http:", "https:", "tel:", "mailto:", "sms:")

# Inline (hashed into the page's CSP by plugins/security_headers.py); kept short and dependency-free.
SCRIPT = """(() => {
  const SAFE = new Set(%s);
  const disarm = (a) => {
    const href = a.getAttribute("href");
    if (href === null) return;
    let protocol = null;
    try { protocol = new URL(href, document.baseURI).protocol; } catch (e) {}
    if (!SAFE.has(protocol)) {
      a.removeAttribute("href");
      a.classList.add("link-removed");
    }
  };
  const sweep = (node) => {
    if (node.nodeType !== 1) return;
    if (node.matches("a[href], area[href]")) disarm(node);
    node.querySelectorAll("a[href], area[href]").forEach(disarm);
  };
  sweep(document.documentElement);
  new MutationObserver((records) => records.forEach((r) => {
    if (r.type === "attributes") sweep(r.target); else r.addedNodes.forEach(sweep);
  })).observe(document.documentElement, {childList: true, subtree: true, attributes: true, attributeFilter: ["href"]});
})();""" % ("[" + ", ".join(f'"{p}"' for p in SAFE_PROTOCOLS) + "]")


@hookimpl
def extra_body_script():
    return SCRIPT
