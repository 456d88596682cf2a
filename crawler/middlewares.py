"""Retries with back-off, and with the wait a source asks for.

Scrapy 2.19's RetryMiddleware retries at once: it has no back-off setting and ignores
Retry-After. BackoffRetryMiddleware replaces it (crawler/settings.py DOWNLOADER_MIDDLEWARES), makes
its retries with Scrapy's public get_retry_request, and waits before handing one back to the
scheduler:

- a 429 or 503 with Retry-After (seconds or an HTTP date) waits that long, at most
  RETRY_BACKOFF_MAX_RETRY_AFTER seconds, and never less than the back-off below;
- any other retry (5xx, 408, a timeout, a connection lost mid-response) waits RETRY_BACKOFF_BASE
  seconds, doubled on each further retry of the same request, at most RETRY_BACKOFF_MAX;
- a refused connection or a host that does not resolve is retried at once, as Scrapy does: nothing
  is listening, and waiting would only delay the plain "cannot be reached" failure of the crawl.

The wait is an asynchronous sleep (asyncio.sleep under the asyncio reactor, deferLater under
another): the reactor keeps serving other requests meanwhile. Stats: retry/backoff_seconds (total
waited), retry/retry_after_count (waits the source asked for), on top of get_retry_request's
retry/count, retry/reason_count/*, retry/max_reached.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, NotConfigured
from scrapy.utils.asyncio import sleep
from scrapy.utils.misc import load_object
from scrapy.utils.response import response_status_message
from twisted.internet.error import ConnectionRefusedError, DNSLookupError

logger = logging.getLogger(__name__)

RETRY_AFTER_CODES = {429, 503}
NO_BACKOFF = (DownloadConnectionRefusedError, CannotResolveHostError, ConnectionRefusedError, DNSLookupError)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: "120" or "Wed, 21 Oct 2015 07:28:00 GMT".
    None when absent or unreadable; a date in the past gives 0."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class BackoffRetryMiddleware:
    """Scrapy's RetryMiddleware, with waits: the same settings (RETRY_ENABLED, RETRY_TIMES,
    RETRY_HTTP_CODES, RETRY_EXCEPTIONS, RETRY_PRIORITY_ADJUST, the max_retry_times and dont_retry
    meta keys) and the same retry stats, through Scrapy's public get_retry_request."""

    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.retry_http_codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.exceptions_to_retry = tuple(load_object(e) for e in settings.getlist("RETRY_EXCEPTIONS"))
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 30.0)
        self.retry_after_max = settings.getfloat("RETRY_BACKOFF_MAX_RETRY_AFTER", 60.0)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def backoff(self, request) -> float:
        """Exponential back-off: base, 2 x base, 4 x base... for the request's 1st, 2nd, 3rd retry."""
        retries_so_far = request.meta.get("retry_times", 0)
        return min(self.backoff_base * 2 ** retries_so_far, self.backoff_max)

    def delay_for(self, request, response=None) -> float:
        delay = self.backoff(request)
        if response is not None and response.status in RETRY_AFTER_CODES:
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            if asked is not None:
                self.crawler.stats.inc_value("retry/retry_after_count")
                if asked > self.retry_after_max:
                    logger.warning("%s asks to retry after %.0f s; waiting %.0f s (RETRY_BACKOFF_MAX_RETRY_AFTER)",
                                   request.url, asked, self.retry_after_max)
                delay = max(delay, min(asked, self.retry_after_max))
        return delay

    def retry(self, request, reason):
        """The retry of `request`, or None when its retries are used up (get_retry_request counts
        retry/count, retry/reason_count/<reason> and retry/max_reached, and logs the give-up)."""
        return get_retry_request(request, spider=self.crawler.spider, reason=reason,
                                 priority_adjust=request.meta.get("priority_adjust"),
                                 give_up_log_level=request.meta.get("give_up_log_level"))

    async def _wait(self, delay: float) -> None:
        if delay > 0:
            self.crawler.stats.inc_value("retry/backoff_seconds", round(delay, 3))
            await sleep(delay)

    async def process_response(self, request, response):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self.retry(request, response_status_message(response.status))
        if retry is None:
            return response  # retries exhausted: the spider's errback sees the error status
        await self._wait(self.delay_for(request, response))
        return retry

    async def process_exception(self, request, exception):
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self.retry(request, exception)
        if retry is None:
            return None  # retries exhausted: the exception reaches the spider's errback
        if not isinstance(exception, NO_BACKOFF):
            await self._wait(self.delay_for(request))
        return retry
