"""HTTP/1.1 front end: URL routing, verbs, content types, and chunked watch streams.

The routes are the real API server's:

    /api/v1[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]
    /apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]

plus discovery, /version, /healthz and /openapi. Requests are served on their own thread
(`ThreadingHTTPServer`), so a long watch does not block anyone. Bearer tokens are accepted and
ignored; there is no TLS.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from . import discovery_docs, errors, metrics, openapi, protobuf, tables
from .api import Cluster, is_events_view
from .patching import APPLY_PATCH, PATCH_TYPES, STRATEGIC_MERGE_PATCH, apply_patch
from .podaccess import PodAccess
from .selectors import field_matcher, label_matcher
from .store import Change

if TYPE_CHECKING:
    from .resources import Resource

_log = logging.getLogger(__name__)

# A real server ends a watch without timeoutSeconds after a random 30-60 minutes.
DEFAULT_WATCH_SECONDS = 1800.0


def prune_nulls(value: object) -> object:
    """Drop JSON nulls, as decoding into Go structs does (`creationTimestamp: null` and such)."""
    if isinstance(value, dict):
        return {k: prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune_nulls(v) for v in value]
    return value


class ApiHTTPServer(ThreadingHTTPServer):
    """The listening socket; one thread per connection, all sharing one `Cluster`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], cluster: Cluster) -> None:
        super().__init__(address, ApiRequestHandler)
        self.cluster = cluster
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Route:
    """What a URL names: a resource, and optionally a namespace, an object and a subresource."""

    def __init__(
        self, res: Resource, namespace: str | None, name: str | None, sub: str | None
    ) -> None:
        self.res, self.namespace, self.name, self.sub = res, namespace, name, sub


class ApiRequestHandler(PodAccess, BaseHTTPRequestHandler):
    """Answers one HTTP connection's requests (keep-alive, so possibly many).

    The subresources that reach inside pods (log, exec, proxy) are in `PodAccess`.
    """

    protocol_version = "HTTP/1.1"
    server: ApiHTTPServer
    _raw_body = b""
    server_version = "sandbox-apiserver"

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: the sandbox is used from tests and the runbook launcher."""

    # -- plumbing ---------------------------------------------------------------------------

    def _send(self, code: int, body: object, content_type: str = "application/json") -> None:
        data = json.dumps(body, separators=(",", ":")).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_text(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        """The request body, read once in `_handle`."""
        return self._raw_body

    def _json_body(self) -> dict:
        raw = self._body()
        content_type = (self.headers.get("Content-Type") or "application/json").split(";")[0]
        if content_type == protobuf.CONTENT_TYPE:
            return protobuf.decode(raw)
        if content_type not in {"application/json", "*/*", ""}:
            raise errors.unsupported_media_type()
        try:
            body = prune_nulls(json.loads(raw or b"{}"))
        except ValueError as exc:
            raise errors.bad_request(
                f"the object provided is unrecognized (must be of type Object): {exc}"
            ) from exc
        if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
            raise errors.bad_request("the body of the request was in an unknown format")
        return body

    def _query(self) -> dict[str, str]:
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        return {key: values[-1] for key, values in query.items()}

    def _handle(self) -> None:
        # Read the whole body first, whatever happens next: on a keep-alive connection unread
        # bytes would be taken for the next request.
        length = int(self.headers.get("Content-Length") or 0)
        self._raw_body = self.rfile.read(length) if length else b""
        try:
            self._dispatch()
        except errors.ApiError as exc:
            self._send(exc.code, exc.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:
            # A bug, or input this simulator does not expect: answer like a real server's
            # internal error rather than dropping the connection.
            _log.exception("sandbox API server failed on %s %s", self.command, self.path)
            failure = errors.ApiError(500, "InternalError", f"Internal error occurred: {exc}", {})
            self._send(500, failure.body)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    # -- routing ----------------------------------------------------------------------------

    def _dispatch(self) -> None:
        cluster = self.server.cluster
        path = urlsplit(self.path).path.rstrip("/") or "/"
        parts = [p for p in path.split("/") if p]
        accept = self.headers.get("Accept") or ""
        disc = cluster.discovery
        if self.command == "GET" and self._discovery(parts, accept):
            return
        if path in {"/healthz", "/livez", "/readyz"}:
            self._send_text(200, "ok")
            return
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            self._send_text(404, "404 page not found\n")
            return
        if group == metrics.GROUP and version == metrics.VERSION:
            self._send(200, metrics.answer(cluster, self.command, rest, self._query()))
            return
        if not group and version == "v1" and self._pod_access(rest):
            return
        watch_prefix = bool(rest) and rest[0] == "watch"
        if watch_prefix:
            rest = rest[1:]
        route = self._route(disc, group, version, rest)
        if route is None:
            raise errors.not_found_path()
        self._verb(route, watch_prefix)

    def _discovery(self, parts: list[str], accept: str) -> bool:
        """Answer discovery, /version and /openapi; False if the path is none of those."""
        disc = self.server.cluster.discovery
        json_type = "application/json"
        head = parts[0] if parts else ""
        if head == "openapi":
            # Only v3 is served (see openapi.py); kubectl does not need v2 when v3 is there.
            rest = "/".join(parts[2:])
            doc = None
            if parts[1:2] == ["v3"]:
                doc = openapi.group_version(disc, rest) if rest else openapi.root(disc)
            answer: tuple[dict | None, str] = (doc, json_type)
        else:
            host = "{}:{}".format(*self.server.server_address[:2])
            documents = {
                ("version", 1): lambda: (disc.version, json_type),
                ("api", 1): lambda: self._root_discovery(accept, host, core=True),
                ("apis", 1): lambda: self._root_discovery(accept, host, core=False),
                ("api", 2): lambda: (discovery_docs.resource_list(disc, "", parts[1]), json_type),
                ("apis", 2): lambda: (discovery_docs.api_group_doc(disc, parts[1]), json_type),
                ("apis", 3): lambda: (
                    discovery_docs.resource_list(disc, parts[1], parts[2]),
                    json_type,
                ),
            }
            if (head, len(parts)) not in documents:
                return False
            answer = documents[(head, len(parts))]()
        doc, content_type = answer
        if doc is None:
            self._send_text(404, "404 page not found\n")
        else:
            self._send(200, doc, content_type)
        return True

    def _root_discovery(self, accept: str, host: str, *, core: bool) -> tuple[dict, str]:
        """/api or /apis, aggregated (v2) if the client asks for it first."""
        disc = self.server.cluster.discovery
        if discovery_docs.wants_aggregated(accept):
            return discovery_docs.aggregated(disc, core=core), discovery_docs.AGGREGATED_TYPE
        if core:
            return discovery_docs.api_versions(host), "application/json"
        return discovery_docs.api_group_list(disc), "application/json"

    @staticmethod
    def _route(disc: object, group: str, version: str, rest: list[str]) -> _Route | None:
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespaced = disc.find(group, version, rest[2])  # type: ignore[attr-defined]
            if namespaced is not None and namespaced.namespaced:
                namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            return None
        res = disc.find(group, version, rest[0])  # type: ignore[attr-defined]
        if res is None:
            return None
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in res.subresources:
            return None
        return _Route(res, namespace, name, sub)

    def _verb(self, route: _Route, watch_prefix: bool) -> None:
        res, query = route.res, self._query()
        ns = route.namespace or ("" if not res.namespaced else None)
        if "dryRun" in query and self.command in {"POST", "PUT", "PATCH", "DELETE"}:
            if query["dryRun"] != "All":
                raise errors.bad_request(f"unsupported dry run value: {query['dryRun']}")
            with self.server.cluster.dry_run():
                self._verb_routed(route, query, ns, watch_prefix)
        else:
            self._verb_routed(route, query, ns, watch_prefix)

    def _verb_routed(
        self, route: _Route, query: dict[str, str], ns: str | None, watch_prefix: bool
    ) -> None:
        res = route.res
        if route.name is None:
            self._collection_verb(res, ns, query, watch_prefix)
        elif res.namespaced and ns is None:
            raise errors.not_found_path()
        elif watch_prefix:
            query["fieldSelector"] = f"metadata.name={route.name}"
            self._watch(res, ns or "", query)
        else:
            self._object_verb(res, ns or "", route.name, route.sub or "", query)

    def _collection_verb(
        self, res: Resource, ns: str | None, query: dict[str, str], watch_prefix: bool
    ) -> None:
        method = self.command
        if method in {"GET", "HEAD"}:
            if watch_prefix or query.get("watch") in {"1", "true", "True"}:
                self._watch(res, ns, query)
            else:
                self._list(res, ns, query)
        elif method == "POST" and (ns is not None or not res.namespaced):
            self._send(201, self.server.cluster.create(res, ns or "", self._json_body()))
        elif method == "DELETE" and ns is not None:
            self._delete_collection(res, ns, query)
        else:
            raise errors.method_not_allowed()

    def _object_verb(
        self, res: Resource, ns: str, name: str, sub: str, query: dict[str, str]
    ) -> None:
        cluster, method = self.server.cluster, self.command
        if method in {"GET", "HEAD"}:
            if sub == "scale":
                self._send(200, cluster.get_scale(res, ns, name))
                return
            obj = cluster.get(res, ns, name)
            if tables.wants_table(self.headers.get("Accept") or ""):
                rv = obj["metadata"].get("resourceVersion", "")
                obj = tables.table(res.kind, [obj], rv, query.get("includeObject", "Metadata"))
            self._send(200, obj)
        elif method == "PUT":
            self._send(200, cluster.update(res, ns, name, self._json_body(), sub))
        elif method == "PATCH":
            self._patch(res, ns, name, sub, query)
        elif method == "POST" and sub == "eviction":
            self._send(201, cluster.evict(res, ns, name, self._json_body()))
        elif method == "DELETE" and not sub:
            options = self._json_body() if self._body() else {}
            if "gracePeriodSeconds" in query:
                options["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
            if "propagationPolicy" in query:
                options["propagationPolicy"] = query["propagationPolicy"]
            # DeleteOptions may ask for a dry run in the body rather than the query.
            with cluster.dry_run("All" in (options.get("dryRun") or [])):
                self._send(200, cluster.delete(res, ns, name, options))
        else:
            raise errors.method_not_allowed()

    # -- verbs ------------------------------------------------------------------------------

    def _matcher(self, res: Resource, query: dict[str, str]) -> Callable[[dict], bool]:
        labels = label_matcher(query.get("labelSelector"))
        fields_text = query.get("fieldSelector")
        if fields_text and is_events_view(res):
            fields_text = fields_text.replace("regarding.", "involvedObject.")
        fields = field_matcher(fields_text, res.kind)
        if is_events_view(res):
            from .api import event_to_core  # noqa: PLC0415  (only events.k8s.io needs it)

            return lambda obj: labels(obj) and fields(event_to_core(obj))
        return lambda obj: labels(obj) and fields(obj)

    def _list(self, res: Resource, ns: str | None, query: dict[str, str]) -> None:
        items, rv = self.server.cluster.list(res, ns, self._matcher(res, query))
        body: dict = {
            "apiVersion": res.api_version,
            "items": items,
            "kind": f"{res.kind}List",
            "metadata": {"resourceVersion": str(rv)},
        }
        limit = int(query.get("limit") or 0)
        start = int(query.get("continue") or 0) if (query.get("continue") or "").isdigit() else 0
        if limit or start:
            # The continue token is the offset into the listing; good enough for one server
            # with no compaction.
            body["items"] = items[start : start + limit] if limit else items[start:]
            if limit and start + limit < len(items):
                body["metadata"]["continue"] = str(start + limit)
                body["metadata"]["remainingItemCount"] = len(items) - start - limit
        if tables.wants_table(self.headers.get("Accept") or ""):
            body = tables.table(
                res.kind,
                body["items"],
                str(rv),
                query.get("includeObject", "Metadata"),
                body["metadata"],
            )
        self._send(200, body)

    def _delete_collection(self, res: Resource, ns: str, query: dict[str, str]) -> None:
        cluster = self.server.cluster
        items, rv = cluster.list(res, ns, self._matcher(res, query))
        deleted = []
        for item in items:
            meta = item["metadata"]
            try:
                cluster.delete(res, meta.get("namespace", ""), meta["name"], {})
            except errors.ApiError:
                continue
            deleted.append(item)
        self._send(
            200,
            {
                "apiVersion": res.api_version,
                "items": deleted,
                "kind": f"{res.kind}List",
                "metadata": {"resourceVersion": str(rv)},
            },
        )

    def _patch(self, res: Resource, ns: str, name: str, sub: str, query: dict[str, str]) -> None:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type == APPLY_PATCH:
            self._apply(res, ns, name, sub, query)
            return
        if content_type not in PATCH_TYPES:
            raise errors.unsupported_media_type()
        body = self._body()
        result = self.server.cluster.patch(
            res,
            ns,
            name,
            lambda kind, current: prune_nulls(apply_patch(content_type, kind, current, body)),
            sub,
        )
        self._send(200, result)

    def _apply(self, res: Resource, ns: str, name: str, sub: str, query: dict[str, str]) -> None:
        """Server-side apply, simplified: create, or strategic-merge the applied configuration.

        Field ownership is not tracked, so fields dropped from a later apply are kept and no
        conflicts are reported; what is applied always wins (as with `--force-conflicts`).
        """
        import yaml  # noqa: PLC0415  (only server-side apply needs a YAML parser)

        raw = self._body()
        if not query.get("fieldManager"):
            raise errors.invalid(
                "PatchOptions",
                "",
                [
                    (
                        "fieldManager",
                        "FieldValueRequired",
                        "Required value: is required for apply patch",
                    )
                ],
                "meta.k8s.io",
            )
        try:
            applied = prune_nulls(yaml.safe_load(raw.decode("utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise errors.bad_request(f"error decoding YAML: {exc}") from exc
        if not isinstance(applied, dict):
            raise errors.bad_request("the applied configuration is not an object")
        cluster = self.server.cluster
        try:
            cluster.get(res, ns, name)
        except errors.ApiError as missing:
            if missing.code != 404 or sub:
                raise
            applied.setdefault("metadata", {}).setdefault("name", name)
            self._send(201, cluster.create(res, ns, applied))
            return
        patch = json.dumps(applied).encode()
        result = cluster.patch(
            res,
            ns,
            name,
            lambda kind, current: prune_nulls(
                apply_patch(STRATEGIC_MERGE_PATCH, kind, current, patch)
            ),
            sub,
        )
        self._send(200, result)

    # -- watch ------------------------------------------------------------------------------

    def _client_gone(self) -> bool:
        if self.server.stopping.is_set():
            return True
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _chunk(self, event: dict) -> None:
        data = json.dumps(event, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _watch(self, res: Resource, ns: str | None, query: dict[str, str]) -> None:
        """Stream {"type", "object"} events until timeoutSeconds or the client goes away."""
        cluster, store = self.server.cluster, self.server.cluster.store
        match = self._matcher(res, query)
        rv_text = query.get("resourceVersion") or ""
        initial = query.get("sendInitialEvents") in {"true", "1"}
        with store.lock:
            # Without a resourceVersion a watch starts with the current state, as ADDED events.
            if rv_text in {"", "0"} or initial:
                items, rv = cluster.list(res, ns, match)
            else:
                items, rv = [], int(rv_text) if rv_text.isdigit() else 0
            oldest = store.oldest_watchable()
        self._start_stream()
        if rv < oldest:
            message = f"too old resource version: {rv} ({oldest})"
            self._chunk({"type": "ERROR", "object": errors.ApiError(410, "Expired", message).body})
            self._end_stream()
            return
        send = self._watch_sender(res, query)
        for item in items:
            item["apiVersion"], item["kind"] = res.api_version, res.kind
            send("ADDED", item)
        if initial:
            bookmark = {
                "annotations": {"k8s.io/initial-events-end": "true"},
                "resourceVersion": str(rv),
            }
            self._chunk(
                {
                    "type": "BOOKMARK",
                    "object": {
                        "apiVersion": res.api_version,
                        "kind": res.kind,
                        "metadata": bookmark,
                    },
                }
            )
        timeout = float(query.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)

        # A reset replaces the cluster (ApiServer.reset): the watch ends, the client watches again.
        def done() -> bool:
            return self.server.cluster is not cluster or self._client_gone()

        for batch in store.follow(rv, done, timeout):
            for change in batch:
                if change.key != res.storage_key:
                    continue
                obj = cluster.view(res, change.obj)
                if ns is not None and res.namespaced and obj["metadata"].get("namespace") != ns:
                    continue
                kind = self._watch_type(res, change, match(obj), match)
                if kind:
                    send(kind, obj)
        self._end_stream()

    def _watch_type(
        self, res: Resource, change: Change, matches: bool, match: Callable[[dict], bool]
    ) -> str | None:
        """The event type a filtered watch reports, or None to skip the change."""
        if change.type != "MODIFIED" or change.previous is None:
            return change.type if matches else None
        matched = match(self.server.cluster.view(res, change.previous))
        if matches:
            return "MODIFIED" if matched else "ADDED"
        return "DELETED" if matched else None

    def _watch_sender(self, res: Resource, query: dict[str, str]) -> Callable[[str, dict], None]:
        """How to send one watch event: the object, or a one-row Table if kubectl asked."""
        as_table = tables.wants_table(self.headers.get("Accept") or "")
        include = query.get("includeObject", "Metadata")

        def send(kind: str, obj: dict) -> None:
            if as_table:
                rv = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
                obj = tables.table(res.kind, [obj], "", include, rv)
            self._chunk({"type": kind, "object": obj})

        return send

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
