"""Error pages rendered like every other page, so that they know the request: its language
(plugins/i18n.py, a 404 in Spanish for a Spanish link) and its base_url. Datasette 0.65's own
handler renders error.html without the request or any plugin's template variables; this one runs
first and answers the same status, message and title (datasette/handle_exception.py), JSON
requests excepted: those keep Datasette's JSON error. A request that ran the worker out of its
memory ceiling is answered 400, in HTML and JSON alike."""
from datasette import hookimpl
from datasette.utils import add_cors_headers
from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError
from markupsafe import Markup


# A request whose answer runs the worker into its memory ceiling (common/serving.limit_memory)
# asked for too much: a 400 that says so, not a 500 with Python's empty MemoryError.
TOO_LARGE = ("The answer to this request is too large for this server's memory. Ask for fewer or "
             "smaller rows: a filter, a smaller _size, or fewer columns.")


def described(exception) -> tuple[int, object, str | None]:
    """(status, message, title) as Datasette's own handler says them; a MemoryError is a 400."""
    if isinstance(exception, MemoryError):
        return 400, TOO_LARGE, "Answer too large"
    if isinstance(exception, Base400):
        return exception.status, exception.args[0] if exception.args else "", None
    if isinstance(exception, DatasetteError):
        message = Markup(exception.message) if exception.message_is_html else exception.message
        return exception.status, message, exception.title
    return 500, str(exception), None


@hookimpl
def handle_exception(datasette, request, exception):
    if request is None:
        return None
    status, message, title = described(exception)
    if status >= 500:
        return None  # Datasette's handler logs the traceback and answers
    if request.path.split("?")[0].endswith(".json"):
        if not isinstance(exception, MemoryError):
            return None  # Datasette's own JSON error
        return Response.json({"ok": False, "error": message, "status": status, "title": title}, status=status)

    async def inner():
        context = {"ok": False, "error": message, "status": status, "title": title}
        html = await datasette.render_template([f"{status}.html", "error.html"], context, request=request)
        headers = {}
        if datasette.cors:
            add_cors_headers(headers)
        return Response.html(html, status=status, headers=headers)

    return inner
