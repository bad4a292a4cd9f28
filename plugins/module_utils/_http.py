# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""JSON over HTTP for the Prometheus and Alertmanager clients (private to this collection).

One request path for modules (on the target) and lookups (on the controller): ansible-core's
``open_url``, so no extra dependency. Reads are retried with exponential backoff on connection
errors, 429 and 5xx; writes are never retried. Every failure is an ``APIError`` whose message
names the action, the URL, the HTTP status and the server's own explanation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode, urlsplit, urlunsplit
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import SSLValidationError, open_url

RETRYABLE_STATUS = frozenset([429, 500, 502, 503, 504])


def connection_argument_spec(env_prefix):
    """Options shared by every module of one backend (``env_prefix``: PROMETHEUS, ALERTMANAGER)."""
    return dict(
        url=dict(type="str", required=True, fallback=(env_fallback, [env_prefix + "_URL"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, [env_prefix + "_TOKEN"])),
        username=dict(type="str", fallback=(env_fallback, [env_prefix + "_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, [env_prefix + "_PASSWORD"])),
        # Headers often carry credentials (Authorization, API keys): never logged.
        headers=dict(type="dict", default={}, no_log=True),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        client_cert=dict(type="path"),
        client_key=dict(type="path"),
        timeout=dict(type="float", default=10.0),
        retries=dict(type="int", default=2),
        retry_backoff=dict(type="float", default=0.5),
    )


CONNECTION_OPTIONS = tuple(connection_argument_spec("X"))


def redact_url(url):
    """The URL as messages may show it: no query string (it may hold a query or a secret) and no
    ``user:password@`` credentials."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class APIError(Exception):
    """A request failed; ``str()`` is the whole message a user needs."""

    def __init__(self, action, url, status=None, detail=None, body=None):
        self.action = action
        self.url = url
        self.status = status
        self.detail = detail
        self.body = body
        message = "Failed to %s: %s" % (action, url)
        if status is not None:
            message += " answered HTTP %s" % status
        if detail:
            message += ": %s" % to_text(detail)
        super(APIError, self).__init__(message)


def _error_detail(body):
    """The server's own explanation from an error body (Prometheus, Alertmanager or plain text)."""
    text = to_text(body or b"", errors="surrogate_or_replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500] or None
    if isinstance(data, dict):
        if data.get("errorType") or data.get("error"):
            # Prometheus: {"status": "error", "errorType": "bad_data", "error": "..."}
            return "%s: %s" % (data.get("errorType", "error"), data.get("error", ""))
        if data.get("message"):
            # Alertmanager (go-swagger): {"code": 422, "message": "..."}
            return to_text(data["message"])
    return text[:500]


class APIClient:
    """JSON requests against one base URL with the shared connection options."""

    # What the backend is called in messages, e.g. "Prometheus".
    service = "API"

    def __init__(
        self,
        url,
        *,
        token=None,
        username=None,
        password=None,
        headers=None,
        validate_certs=True,
        ca_path=None,
        client_cert=None,
        client_key=None,
        timeout=10.0,
        retries=2,
        retry_backoff=0.5,
        sleep=time.sleep,
    ):
        if not url:
            raise APIError(
                "connect to %s" % self.service,
                "(no url)",
                detail="no URL given; set the url option or its environment variable",
            )
        self.url = url.rstrip("/")
        self.token = token
        self.username = username
        self.password = password
        self.headers = dict(headers or {})
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.client_cert = client_cert
        self.client_key = client_key
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.retry_backoff = float(retry_backoff)
        self._sleep = sleep

    @classmethod
    def from_options(cls, options):
        """Build from a dict holding the shared options (module params or lookup options)."""
        given = {name: options.get(name) for name in CONNECTION_OPTIONS}
        return cls(**{name: value for name, value in given.items() if value is not None})

    def _headers(self, has_body):
        headers = {"Accept": "application/json"}
        if has_body:
            headers["Content-Type"] = "application/json"
        headers.update(self.headers)
        if self.token:
            headers["Authorization"] = "Bearer %s" % self.token
        return headers

    def request(
        self, method, path, action, *, params=None, body=None, form=None, read=None, timeout=None
    ):
        """Send one request and return the decoded JSON body (None for an empty body).

        ``read`` marks an idempotent request that may be retried; by default GET is a read.
        ``form`` sends a URL-encoded body (Prometheus' POST query endpoints).
        """
        url = self.url + path
        if params:
            url += "?" + urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
        headers = self._headers(has_body=body is not None)
        data = None
        if body is not None:
            data = json.dumps(body)
        elif form is not None:
            data = urlencode([(k, v) for k, v in form.items() if v is not None])
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        attempts = 1 + (self.retries if (method == "GET" if read is None else read) else 0)
        for attempt in range(1, attempts + 1):
            try:
                return self._send(
                    method, url, action, data=data, headers=headers, timeout=timeout or self.timeout
                )
            except APIError as error:
                retryable = error.status is None or error.status in RETRYABLE_STATUS
                if not retryable or attempt == attempts:
                    raise
                self._sleep(self.retry_backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method, url, action, *, data, headers, timeout):
        """One HTTP exchange; every failure becomes an APIError (status None: no answer)."""
        shown_url = redact_url(url)
        try:
            response = open_url(
                url,
                data=data,
                headers=headers,
                method=method,
                timeout=timeout,
                validate_certs=self.validate_certs,
                url_username=self.username,
                url_password=self.password,
                force_basic_auth=bool(self.username),
                ca_path=self.ca_path,
                client_cert=self.client_cert,
                client_key=self.client_key,
                http_agent="sre.runbooks",
                use_netrc=False,
            )
            raw = response.read()
        except HTTPError as error:
            body = error.read() if hasattr(error, "read") else b""
            detail = _error_detail(body) or to_native(error.reason)
            raise APIError(action, shown_url, error.code, detail, body) from None
        except (URLError, UrlsConnectionError, SSLValidationError, OSError) as error:
            reason = to_native(getattr(error, "reason", error))
            detail = "%s unreachable: %s" % (self.service, reason)
            raise APIError(action, shown_url, detail=detail) from None
        if not raw:
            return None
        try:
            return json.loads(to_text(raw, errors="surrogate_or_strict"))
        except ValueError:
            detail = "the answer is not JSON: %s" % to_text(raw[:200])
            raise APIError(action, shown_url, getattr(response, "status", None), detail) from None


class APIModule(AnsibleModule):
    """AnsibleModule with one backend's connection options merged into its spec.

    Subclasses set ``client_class`` and ``env_prefix``; modules call ``client()`` and report
    failures with ``fail_from_exception()``.
    """

    client_class = APIClient
    env_prefix = None

    def __init__(self, argument_spec, **kwargs):
        spec = connection_argument_spec(self.env_prefix)
        spec.update(argument_spec)
        super(APIModule, self).__init__(argument_spec=spec, **kwargs)
        self._client = None

    def client(self):
        if self._client is None:
            try:
                self._client = self.client_class.from_options(self.params)
            except APIError as error:
                self.fail_from_exception(error)
        return self._client

    def fail_from_exception(self, error, **result):
        """One place where an APIError becomes a failed result with its status and detail."""
        if isinstance(error, APIError):
            result.setdefault("status", error.status)
            result.setdefault("url", error.url)
        self.fail_json(msg=to_text(error), **result)
