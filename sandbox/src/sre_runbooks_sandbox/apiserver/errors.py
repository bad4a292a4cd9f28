"""Failures as the real API server reports them: `Status` objects with code, reason and details.

Message texts are those of a real API server (recordings in tests/sandbox/reference/), because
kubectl and the Ansible modules show them to users verbatim.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .resources import Resource

RFC1123_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
RFC1123_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
RFC1035_LABEL = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n"}
_GO_ESCAPES.update({"\r": "\\r", "\t": "\\t", "\v": "\\v"})


def go_quote(text: str) -> str:
    """A string as Go's %q prints it (strconv.Quote)."""
    out = []
    for char in text:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable() or char == " ":
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def field_value(value: object) -> str:
    """A bad value as a v1.36 field error prints it (field.Error.ErrorBody): numbers and
    booleans plainly, strings Go-quoted, anything else (maps, lists) as compact JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class ApiError(Exception):
    """An HTTP failure carrying the `Status` body the server sends."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.body = {
            "apiVersion": "v1",
            "code": code,
            "details": details if details is not None else {},
            "kind": "Status",
            "message": message,
            "metadata": {},
            "reason": reason,
            "status": "Failure",
        }
        if details is None:
            # A real server leaves `details` out when there is nothing to say, except for 415.
            del self.body["details"]


def _details(res: Resource, name: str) -> dict:
    details = {"kind": res.plural, "name": name}
    if res.group:
        details["group"] = res.group
    return details


def not_found(res: Resource, name: str) -> ApiError:
    """404 for a missing object."""
    return ApiError(404, "NotFound", f'{res.qualified} "{name}" not found', _details(res, name))


def already_exists(res: Resource, name: str) -> ApiError:
    """409 for a create whose name is taken."""
    return ApiError(
        409, "AlreadyExists", f'{res.qualified} "{name}" already exists', _details(res, name)
    )


def conflict(res: Resource, name: str) -> ApiError:
    """409 for a write based on a stale resourceVersion."""
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {res.qualified} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        _details(res, name),
    )


def invalid(kind: str, name: str, causes: list[tuple[str, str, str]], group: str = "") -> ApiError:
    """422 with one cause per (field, reason, message) as field validation reports them."""
    qualified = f"{kind}.{group}" if group else kind
    text = "; ".join(f"{fld}: {msg}" for fld, _, msg in causes)
    if len(causes) > 1:
        text = "[" + ", ".join(f"{fld}: {msg}" for fld, _, msg in causes) + "]"
    details: dict = {
        "causes": [{"field": fld, "message": msg, "reason": why} for fld, why, msg in causes],
    }
    if kind:
        details["kind"] = kind
    if group:
        details["group"] = group
    if name:
        details["name"] = name
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {text}', details)


def bad_request(message: str) -> ApiError:
    """400 for a request the server cannot decode."""
    return ApiError(400, "BadRequest", message)


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    """405 for a verb the resource does not support."""
    return ApiError(405, "MethodNotAllowed", message, {})


def unsupported_media_type() -> ApiError:
    """415 for a PATCH whose Content-Type is not a patch type, exactly as recorded."""
    return ApiError(415, "UnsupportedMediaType", "415: Unsupported Media Type", {})


def not_found_path() -> ApiError:
    """404 for a URL that names no resource (the real server answers `404 page not found`)."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})
