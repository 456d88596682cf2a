"""Security headers on every answer (issue 15: a query's `javascript:` link in the map popup ran
script when clicked; no Content-Security-Policy, X-Frame-Options or X-Content-Type-Options).

The Content-Security-Policy allows scripts from the site itself and, of inline `<script>` blocks,
exactly those the page was sent with: the wrapper reads each HTML answer, hashes every inline
script (sha256, as CSP Level 2 defines) and lists the hashes. No 'unsafe-inline' means the browser
runs no `javascript:` URL (a link, the map popup's, an iframe's) and no inline event handler, from
whatever row or query the page shows. `frame-ancestors 'none'` and X-Frame-Options DENY forbid
framing; nosniff stops a browser reading a CSV or JSON answer as HTML or script.
Styles may be inline (Datasette's pages use style attributes; CSS runs no script). Images may come
from OpenStreetMap's tile servers (the maps).
"""
from __future__ import annotations

import base64
import hashlib
import re

from datasette import hookimpl

INLINE_SCRIPT = re.compile(rb"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
POLICY = ("default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data: https://*.tile.openstreetmap.org https://tile.openstreetmap.org; "
          "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
          "frame-ancestors 'none'")
ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
          (b"referrer-policy", b"strict-origin-when-cross-origin")]


def script_hashes(html: bytes) -> list[str]:
    """The CSP source of each distinct inline script of html, in order: 'sha256-<base64>'."""
    hashes = []
    for match in INLINE_SCRIPT.finditer(html):
        source = "'sha256-" + base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode() + "'"
        if source not in hashes:
            hashes.append(source)
    return hashes


def policy(html: bytes) -> bytes:
    hashes = script_hashes(html)
    return POLICY.format(hashes="".join(" " + h for h in hashes)).encode("ascii")


def with_headers(headers: list, csp: bytes) -> list:
    """headers with ours over any of the same name."""
    ours = ALWAYS + [(b"content-security-policy", csp)]
    names = {name for name, _ in ours}
    return [(k, v) for k, v in headers if k.lower() not in names] + ours


@hookimpl(trylast=True)  # the outermost wrapper: the request budget's own 400/503 answers get the headers too
def asgi_wrapper(datasette):
    def wrap(app):
        async def security_headers(scope, receive, send):
            if scope.get("type") != "http":
                await app(scope, receive, send)
                return
            start, body = None, []

            async def send_with_headers(message):
                nonlocal start
                if message["type"] == "http.response.start":
                    kind = dict((k.lower(), v) for k, v in message.get("headers", [])).get(b"content-type", b"")
                    if kind.startswith(b"text/html"):
                        start = message  # held until the whole page is read: its scripts are hashed
                        return
                    await send({**message, "headers": with_headers(message.get("headers", []), policy(b""))})
                    return
                if start is None or message["type"] != "http.response.body":
                    await send(message)
                    return
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    page = b"".join(body)
                    await send({**start, "headers": with_headers(start.get("headers", []), policy(page))})
                    await send({"type": "http.response.body", "body": page})

            await app(scope, receive, send_with_headers)
        return security_headers
    return wrap
