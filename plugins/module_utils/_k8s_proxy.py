# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP requests to a Service or Pod port through the API server's proxy subresource."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import (
    K8sError,
    resource_path,
    target_text,
)

READ_METHODS = frozenset(["GET", "HEAD", "OPTIONS"])


def proxy_path(kind, namespace, name, *, port, scheme, path):
    """``/api/v1/namespaces/NS/services/[https:]NAME[:PORT]/proxy/PATH``."""
    target = name
    if port not in (None, ""):
        target = "%s:%s" % (name, port)
    if scheme == "https":
        target = "https:" + target
    base = resource_path(kind, namespace) + "/" + quote(target, safe=":")
    return base + "/proxy/" + path.lstrip("/")


def split_query(path):
    if "?" in path:
        path, query = path.split("?", 1)
        return path, query
    return path, None


def is_change(method, changes):
    """Whether a successful request counts as a change (``changes`` None: by method)."""
    if method in READ_METHODS:
        return False
    return True if changes is None else bool(changes)


def decode_body(data, content_type):
    """(content text, parsed JSON or None)."""
    text = to_text(data or b"", errors="surrogate_or_replace")
    parsed = None
    if text and ("json" in (content_type or "") or text.lstrip()[:1] in ("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    return text, parsed


def run_request(client, params, check_mode=False):
    kind = params["kind"]
    method = params["method"].upper()
    namespace, name = params["namespace"], params["name"]
    path, query = split_query(params["path"])
    rest = proxy_path(
        kind, namespace, name, port=params.get("port"), scheme=params["scheme"], path=path
    )
    if query:
        rest += "?" + query
    changed = is_change(method, params.get("changes"))
    result = dict(changed=changed, url=rest, method=method)
    # A POST that only reads (changes=false, e.g. Triton's repository index) is sent in check mode.
    if check_mode and method not in READ_METHODS and params.get("changes") is not False:
        result["msg"] = "check mode: %s request not sent" % method
        return result
    body = params.get("body")
    headers = dict(params.get("headers") or {})
    content_type = None
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        content_type = "application/json"
    elif body is not None:
        body = to_text(body)
    if body is not None:
        headers.setdefault("Content-Type", content_type or "text/plain")
    target = "%s %s" % (method, target_text(kind, namespace, name))
    try:
        response = client.send(
            method,
            rest,
            body=body,
            accept=headers.pop("Accept", "*/*"),
            headers=headers,
            timeout=params.get("timeout"),
        )
    except Exception as error:  # urllib3's many errors all mean "no answer"
        raise K8sError(
            "send",
            target + " through the API server proxy",
            message="API server unreachable: %s" % error,
        ) from None
    content_type = response.headers.get("Content-Type", "")
    text, parsed = decode_body(response.data, content_type)
    result.update(status=response.status, content=text, json=parsed, content_type=content_type)
    if response.status not in params["status_code"]:
        result["changed"] = False
        message = text[:300]
        reason = None
        if isinstance(parsed, dict) and parsed.get("kind") == "Status":
            reason, message = parsed.get("reason"), parsed.get("message")
        error = K8sError(
            "send", target + " through the API server proxy", response.status, reason, message
        )
        error.result = result
        raise error
    return result
