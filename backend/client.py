"""The connection to a Label Studio server.

Built on ``label_studio_sdk.LabelStudio``, which takes both kinds of API key (a
personal access token, exchanged for short-lived access tokens, or a legacy
token). Around it: a bounded wait per call, retries with backoff on 5xx and
429 only, and errors that say what happened and what to do.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import json
import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import urlparse

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

DEFAULT_TIMEOUT = 45.0
"""Seconds one call to Label Studio may take in all, retries included."""

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_FIRST_BACKOFF = 0.5
_MAX_BACKOFF = 8.0

TOKEN_HELP = (
    "Label Studio accepts a personal access token (Account & Settings > "
    "Personal Access Token; the default since Label Studio 1.17) or a legacy "
    "token (Account & Settings > Legacy Token), which works only where an "
    "organization admin turned legacy tokens on (Organization > API Token "
    "Settings); new organizations have them off. Pass the key as api_key=..., "
    "or set FIFTYONE_LABELSTUDIO_API_KEY."
)

T = TypeVar("T")


class LabelStudioError(RuntimeError):
    """A call to Label Studio failed; the message says why and what to do."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class NotFoundError(LabelStudioError):
    """What was asked for (a project, a task) does not exist (any more)."""


class NotReached(LabelStudioError):
    """Label Studio was not reached at the URL: nothing answered, or
    something else did (web pages)."""


class UnknownOutcome(LabelStudioError):
    """A request that creates something failed in a way that leaves open
    whether the server did it (a 5xx, or no answer in time): the caller looks
    at what the server holds before trying again."""


class RetryTransport(httpx.HTTPTransport):
    """Retries a request on 5xx and 429 with exponential backoff (honouring
    ``Retry-After``) until its time budget, the request's read timeout, has
    passed since it was first sent; each attempt waits only for what is left.

    A POST that creates something is retried only on 429 (the server did not
    take it): after a 5xx its outcome is unknown (a gateway may time out after
    Label Studio committed), and repeating it could make a second project or
    second tasks. Its caller reconciles instead (see :class:`UnknownOutcome`).
    POSTs that are safe to repeat say so with the request extension
    ``"idempotent": True``.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        budget = (request.extensions.get("timeout") or {}).get("read") or DEFAULT_TIMEOUT
        deadline = time.monotonic() + budget
        backoff = _FIRST_BACKOFF
        statuses = _RETRY_STATUSES if _repeatable(request) else frozenset({429})
        while True:
            left = max(deadline - time.monotonic(), 0.001)
            request.extensions["timeout"] = {
                "connect": min(left, 10.0),
                "read": left,
                "write": left,
                "pool": left,
            }
            response = super().handle_request(request)
            if response.status_code not in statuses:
                return response
            wait = _retry_after(response) or backoff
            if time.monotonic() + wait >= deadline:
                return response
            response.close()
            time.sleep(wait)
            backoff = min(backoff * 2, _MAX_BACKOFF)


def _repeatable(request: httpx.Request) -> bool:
    return (
        request.method != "POST"
        or bool(request.extensions.get("idempotent"))
        or request.url.path.rstrip("/").endswith("/api/token/refresh")
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(parsed.timestamp() - time.time(), 0.0) if parsed else None


@dataclass(frozen=True)
class ServerInfo:
    """Who and what a connection reaches."""

    url: str
    version: str
    user: str


class Connection:
    """An authenticated connection to one Label Studio server.

    Args:
        url: the server, e.g. ``http://localhost:8080``
        api_key: a personal access token or a legacy token
        timeout: seconds one call may take in all, retries included
    """

    def __init__(self, url: str, api_key: str, timeout: float = DEFAULT_TIMEOUT):
        self.url = normalize_url(url)
        self.timeout = float(timeout)
        if not api_key:
            raise LabelStudioError(f"No Label Studio API key was given. {TOKEN_HELP}")
        self._key_fingerprint = _fingerprint(api_key)  # to remember a refusal, not the key
        self._http = httpx.Client(
            transport=RetryTransport(verify=_ssl_context()), timeout=self.timeout
        )
        self._answers = threading.local()
        self.sdk = self.call(
            lambda: LabelStudio(
                base_url=self.url, api_key=api_key, httpx_client=self._http, max_retries=0
            ),
            "read the API key",
        )

    def close(self) -> None:
        self._http.close()

    @property
    def server_date(self) -> datetime | None:
        """The server's clock (its ``Date`` header, UTC) at its last answer to
        a :meth:`request` of this thread, or None before one."""
        return getattr(self._answers, "date", None)

    def call(self, function: Callable[[], T], action: str, creates: bool = False) -> T:
        """Runs one SDK call, turning what it raises into a :class:`LabelStudioError`
        that names ``action``, the server and the fix; for a call that
        ``creates`` something, an :class:`UnknownOutcome` where the server may
        have done it."""
        try:
            return function()
        except json.JSONDecodeError:  # the SDK read a web page as the API's JSON
            raise not_the_api(self.url, action) from None
        except (ApiError, httpx.TransportError) as error:
            if creates and _outcome_unknown(error):
                raise UnknownOutcome(
                    f"Label Studio at {self.url} did not confirm that it could {action} "
                    f"({self._translate(error, action)})"
                ) from None
            raise self._translate(error, action) from None

    def request(
        self,
        method: str,
        path: str,
        action: str,
        timeout: float | None = None,
        idempotent: bool = False,
        **kwargs,
    ) -> Any:
        """One raw API request, for what the SDK's typed methods do not serve
        (or serve slowly), authenticated as the SDK authenticates; returns the
        decoded JSON body, or None when there is none. A POST is taken to
        create something (see :class:`RetryTransport`) unless ``idempotent``."""

        extra_headers = kwargs.pop("headers", {})

        def send():
            response = self._http.request(
                method,
                self._api(path),
                headers={**self._headers(), **extra_headers},
                timeout=timeout or self.timeout,
                extensions={"idempotent": idempotent},
                **kwargs,
            )
            self._answers.date = _date_of(response) or self.server_date
            _raise_for_status(response)
            body = _body(response) if response.content else None
            if isinstance(body, str):  # not JSON: a web page
                raise not_the_api(self.url, action)
            return body

        return self.call(send, action, creates=method == "POST" and not idempotent)

    @contextmanager
    def stream(
        self, method: str, path: str, action: str, timeout: float | None = None, **kwargs
    ) -> Iterator[httpx.Response]:
        """A raw API request whose body is read as it arrives."""
        try:
            with self._http.stream(
                method,
                self._api(path),
                headers=self._headers(),
                timeout=timeout or self.timeout,
                **kwargs,
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for_status(response)
                yield response
        except (ApiError, httpx.TransportError) as error:
            raise self._translate(error, action) from None

    def _api(self, path: str) -> str:
        return f"{self.url}/{path.lstrip('/')}"

    def _headers(self) -> dict:
        # the SDK's own headers: a fresh access token for a personal access
        # token, or the legacy token
        return self.sdk._client_wrapper.get_headers()

    def server_info(self) -> ServerInfo:
        """The server's version and the user the key belongs to."""
        version = self.request("GET", "api/version", "read the server version") or {}
        user = self.call(self.sdk.users.whoami, "read the current user")
        return ServerInfo(
            self.url, str(version.get("release", "unknown")), user.email or user.username
        )

    def _translate(self, error: Exception, action: str) -> LabelStudioError:
        if isinstance(error, ApiError):
            return self._explain(error.status_code, error.body, action)
        if isinstance(error, httpx.TimeoutException):
            return LabelStudioError(
                f"Label Studio at {self.url} did not answer in time while trying to {action}. "
                "It may be overloaded; try again, or allow more time with timeout=... "
                f"(now {self.timeout:g} s)."
            )
        unreached = isinstance(error, httpx.ConnectError)  # not a cut mid-answer
        if unreached:
            _unreached.add(self.url)
        return (NotReached if unreached else LabelStudioError)(
            f"Cannot reach Label Studio at {self.url} to {action} ({error}). Check that the "
            "server is running and the URL is right (url=..., or FIFTYONE_LABELSTUDIO_URL)."
        )

    def _explain(self, status: int | None, body: Any, action: str) -> LabelStudioError:
        detail = _detail(body)
        if status == 401:
            _refused.add((self.url, self._key_fingerprint))
            return LabelStudioError(
                f"Label Studio at {self.url} refused the API key while trying to {action} "
                f"(HTTP 401: {detail}). {_key_problem(detail)}{TOKEN_HELP}",
                status,
            )
        if status == 403:
            return LabelStudioError(
                f"The Label Studio user of this API key may not {action} on {self.url} "
                f"(HTTP 403: {detail}). Use the key of a user with access to it.",
                status,
            )
        if status == 404 and _is_page(detail):
            return not_the_api(self.url, action)
        if status == 404:
            return NotFoundError(
                f"Label Studio at {self.url} has no such object: could not {action} "
                f"(HTTP 404: {detail}). It may have been deleted in Label Studio.",
                status,
            )
        return LabelStudioError(
            f"Label Studio at {self.url} failed to {action} (HTTP {status}: {detail}).", status
        )


_refused: set[tuple[str, str]] = set()
_unreached: set[str] = set()


def key_refused(url: str, api_key: str | None) -> bool:
    """Whether Label Studio at ``url`` refused ``api_key`` in this process."""
    return (normalize_url(url), _fingerprint(api_key)) in _refused


def url_unreached(url: str) -> bool:
    """Whether Label Studio was not reached at ``url`` in this process."""
    return normalize_url(url) in _unreached


def _fingerprint(api_key: str | None) -> str:
    return hashlib.sha256(str(api_key).encode()).hexdigest()


def not_the_api(url: str, action: str) -> LabelStudioError:
    """The error of a URL that answers with web pages, not Label Studio's
    API (the App's, or a page of Label Studio pasted whole)."""
    _unreached.add(url)
    return NotReached(
        f"{url} answered with a web page, not Label Studio's API, when asked to {action}. "
        "Give Label Studio's own address, without the path of a page (as in "
        "http://localhost:8080; url=..., or FIFTYONE_LABELSTUDIO_URL)."
    )


def _is_page(detail: str) -> bool:
    return detail.lstrip()[:15].lower().startswith(("<!doctype", "<html"))


def no_server_date(url: str) -> LabelStudioError:
    """The error of a server whose answers carry no ``Date`` header, by which
    a load records when it read."""
    return LabelStudioError(
        f"Label Studio at {url} answered without a Date header, by which a load records "
        "when it read; check the proxy in front of it, which drops it."
    )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default TLS settings, made once per process: loading the
    certificate authorities takes about 70 ms, which every connection (each
    operator run, each refresh of the panel) paid."""
    return httpx.create_ssl_context()


def _outcome_unknown(error: Exception) -> bool:
    """Whether a request may have been carried out although it failed: a 5xx
    answer, or the connection lost or timed out after the request was sent."""
    if isinstance(error, ApiError):
        return (error.status_code or 0) >= 500
    return isinstance(
        error, (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError)
    )


def _key_problem(detail: str) -> str:
    """What a 401's detail says about the key, from Label Studio's own wording."""
    text = detail.lower()
    if "legacy token authentication has been disabled" in text:
        return "The key is a legacy token, and this organization has legacy tokens turned off. "
    if "expired" in text:
        return "The personal access token has expired: create a new one. "
    if "blacklisted" in text:
        return "The personal access token was revoked: create a new one. "
    if "invalid" in text:
        return "Label Studio does not know this key; check that it is complete and current. "
    return ""


def normalize_url(url: str) -> str:
    """The server URL without trailing slash, refusing what is not one.

    Example:
        >>> normalize_url("http://localhost:8080/")
        'http://localhost:8080'
    """
    parsed = urlparse(str(url or "").strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise LabelStudioError(
            f"{url!r} is not a Label Studio URL; give one like http://localhost:8080 "
            "(url=..., or FIFTYONE_LABELSTUDIO_URL)."
        )
    return parsed.geturl().rstrip("/")


def _date_of(response: httpx.Response) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(response.headers["date"]).astimezone(timezone.utc)
    except (KeyError, TypeError, ValueError):
        return None


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise ApiError(status_code=response.status_code, body=_body(response))


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _detail(body: Any) -> str:
    """What an error answer says; Label Studio's "Validation error" says why
    only in its ``validation_errors``.

    Example:
        >>> _detail({"detail": "Validation error", "validation_errors": {"path": ["not under root"]}})
        "Validation error: {'path': ['not under root']}"
    """
    if isinstance(body, dict):
        said = [str(body[key]) for key in ("detail", "error", "message") if key in body][:1]
        if body.get("validation_errors"):
            said.append(str(body["validation_errors"]))
        if said:
            return ": ".join(said)
    return str(body)[:500]
