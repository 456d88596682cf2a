"""base_url, however requests arrive.

Datasette 0.65 makes most of its links from the request's path with base_url put in front
(`urls.path(path_with_format(request=...))`: the JSON alternate of every page, sort, facet and
next-page links). That is right behind a proxy that takes the prefix off, as Datasette's own demo
does (`ProxyPass /prefix/ http://127.0.0.1:8001/`), and gives the prefix twice (/dir/dir/.json)
when requests reach Datasette with it: its nginx example, or a browser talking to `make serve`.
This wrapper takes base_url off such a request's path, as that proxy would, and puts it back on
the redirects Datasette makes from the bare path (a trailing slash taken off): both deployments
then give the same links.
"""
from __future__ import annotations

from urllib.parse import quote

from datasette import hookimpl


def without_base_url(scope: dict, base_url: str) -> dict | None:
    """The scope as a prefix-stripping proxy would pass it on; None when the path lacks base_url."""
    path = scope.get("path", "")
    if base_url == "/" or not path.startswith(base_url):
        return None
    stripped = {key: value for key, value in scope.items() if key != "raw_path"}
    stripped.update(path="/" + path[len(base_url):], root_path=scope.get("root_path", "") + base_url.rstrip("/"))
    raw, prefix = scope.get("raw_path"), quote(base_url).encode("ascii")
    if raw is not None and raw.startswith(prefix):
        stripped["raw_path"] = b"/" + raw[len(prefix):]
    return stripped


def location_with_base_url(location: bytes, base_url: str) -> bytes:
    """A redirect to a bare path of the site, given its base_url again."""
    prefix = quote(base_url).encode("ascii")
    if location.startswith(b"/") and not location.startswith((b"//", prefix)):
        return prefix + location[1:]
    return location


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def base_url_taken_off(scope, receive, send):
            base_url = datasette.setting("base_url")
            stripped = without_base_url(scope, base_url) if scope.get("type") == "http" else None
            if stripped is None:
                await app(scope, receive, send)
                return

            async def send_with_base_url(message):
                if message["type"] == "http.response.start":
                    headers = [(key, location_with_base_url(value, base_url) if key.lower() == b"location" else value)
                               for key, value in message.get("headers", [])]
                    message = {**message, "headers": headers}
                await send(message)

            await app(stripped, receive, send_with_base_url)
        return base_url_taken_off
    return wrap
