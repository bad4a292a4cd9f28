# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One Kubernetes client and one base module class for the collection's Kubernetes modules.

Connection options have kubernetes.core's names and ``K8S_AUTH_*`` environment variables, so one
``module_defaults`` block configures both collections. The client loads a kubeconfig (or the
in-cluster service account) into a private ``Configuration``, and sends JSON to REST paths it
builds itself through the ``ApiClient``'s urllib3 pool (TLS, client certificates and proxy as the
configuration says): no API classes, no discovery round-trips. Every failure is a ``K8sError``
whose message reads "Failed to <action> <kind> <ns>/<name>: <status> <reason>: <message>".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode

# The kubernetes package takes a few tenths of a second to import: it is imported when the first
# client is built (a run that stops before talking to Kubernetes never pays for it).
_LIBRARY = {}


def _library():
    """The kubernetes client's pieces the collection uses; ``ImportError`` when it is missing."""
    if not _LIBRARY:
        from kubernetes.client.api_client import ApiClient  # noqa: PLC0415
        from kubernetes.client.configuration import Configuration  # noqa: PLC0415
        from kubernetes.config import incluster_config, kube_config  # noqa: PLC0415
        from kubernetes.config.config_exception import ConfigException  # noqa: PLC0415
        from urllib3 import HTTPHeaderDict  # noqa: PLC0415
        from yaml import YAMLError  # noqa: PLC0415  (the kubeconfig parser's errors)

        _LIBRARY.update(
            ApiClient=ApiClient,
            Configuration=Configuration,
            incluster_config=incluster_config,
            kube_config=kube_config,
            ConfigException=ConfigException,
            HTTPHeaderDict=HTTPHeaderDict,
            YAMLError=YAMLError,
        )
    return _LIBRARY


def import_error():
    """The traceback of a failed kubernetes import, or None."""
    try:
        _library()
    except ImportError:
        return traceback.format_exc()
    return None


def _comma_list_fallback(*names):
    """env_fallback for a list option given as ``A,B`` in the environment."""
    value = env_fallback(*names)
    return [item for item in value.split(",") if item]


def k8s_argument_spec():
    """kubernetes.core's connection options, with the same ``K8S_AUTH_*`` variables."""
    return dict(
        kubeconfig=dict(type="raw", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG"]), no_log=False),
        context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
        host=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_HOST"])),
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["K8S_AUTH_API_KEY"])),
        username=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["K8S_AUTH_PASSWORD"])),
        validate_certs=dict(
            type="bool",
            aliases=["verify_ssl"],
            fallback=(env_fallback, ["K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"]),
        ),
        ca_cert=dict(
            type="path",
            aliases=["ssl_ca_cert"],
            fallback=(env_fallback, ["K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"]),
        ),
        client_cert=dict(
            type="path",
            aliases=["cert_file"],
            fallback=(env_fallback, ["K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"]),
        ),
        client_key=dict(
            type="path",
            aliases=["key_file"],
            no_log=False,
            fallback=(env_fallback, ["K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"]),
        ),
        proxy=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_PROXY"])),
        impersonate_user=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_IMPERSONATE_USER"])),
        impersonate_groups=dict(
            type="list",
            elements="str",
            fallback=(_comma_list_fallback, ["K8S_AUTH_IMPERSONATE_GROUPS"]),
        ),
    )


K8S_OPTIONS = tuple(k8s_argument_spec())

# kind -> (API prefix, plural). Only the kinds the collection's modules touch.
RESOURCES = {
    "Pod": ("/api/v1", "pods"),
    "Event": ("/api/v1", "events"),
    "Service": ("/api/v1", "services"),
    "ConfigMap": ("/api/v1", "configmaps"),
    "PersistentVolumeClaim": ("/api/v1", "persistentvolumeclaims"),
    "Deployment": ("/apis/apps/v1", "deployments"),
    "StatefulSet": ("/apis/apps/v1", "statefulsets"),
    "DaemonSet": ("/apis/apps/v1", "daemonsets"),
    "ReplicaSet": ("/apis/apps/v1", "replicasets"),
    "ControllerRevision": ("/apis/apps/v1", "controllerrevisions"),
    "PodMetrics": ("/apis/metrics.k8s.io/v1beta1", "pods"),
    "Node": ("/api/v1", "nodes"),
    "NodeMetrics": ("/apis/metrics.k8s.io/v1beta1", "nodes"),
    "StorageClass": ("/apis/storage.k8s.io/v1", "storageclasses"),
}

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def workload_argument_spec():
    """The options naming one workload (documented by the sre.runbooks.k8s_workload fragment)."""
    return dict(
        kind=dict(type="str", default="Deployment", choices=list(WORKLOAD_KINDS)),
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
    )


PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}


def resource_path(kind, namespace=None, name=None, subresource=None):
    """The REST path of a kind, a namespace's collection, an object or its subresource."""
    prefix, plural = RESOURCES[kind]
    path = prefix
    if namespace:
        path += "/namespaces/%s" % quote(namespace, safe="")
    path += "/" + plural
    if name:
        path += "/" + quote(name, safe="")
        if subresource:
            path += "/" + subresource
    return path


def target_text(kind, namespace=None, name=None):
    """``Deployment ns/name`` as error messages name an object."""
    if namespace and name:
        return "%s %s/%s" % (kind, namespace, name)
    return "%s %s" % (kind, name or namespace or "")


def label_selector(selector):
    """A LabelSelector (matchLabels/matchExpressions) as the ``labelSelector`` query string."""
    parts = ["%s=%s" % item for item in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = ",".join(expression.get("values") or [])
        if operator == "In":
            parts.append("%s in (%s)" % (key, values))
        elif operator == "NotIn":
            parts.append("%s notin (%s)" % (key, values))
        elif operator == "Exists":
            parts.append(key)
        elif operator == "DoesNotExist":
            parts.append("!" + key)
    return ",".join(parts)


class K8sError(Exception):
    """A request failed or its answer cannot be used; ``str()`` is the whole message."""

    def __init__(self, action, target, status=None, reason=None, message=None, *, body=None):
        self.action = action
        self.target = target
        self.status = status
        self.reason = reason
        self.detail = message
        self.body = body
        text = "Failed to %s %s" % (action, target)
        cause = " ".join(str(part) for part in (status, reason) if part)
        if cause:
            text += ": " + cause
        if message:
            text += ": " + to_text(message)
        super(K8sError, self).__init__(text)


def _status_fields(body):
    """(reason, message) from a Kubernetes Status answer, or the body's text."""
    text = to_text(body or b"", errors="surrogate_or_replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return None, text[:500] or None
    if isinstance(data, dict) and data.get("kind") == "Status":
        return data.get("reason"), data.get("message")
    return None, text[:500]


class Response:
    """A raw answer: status, headers and body bytes."""

    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data

    def json(self):
        return json.loads(to_text(self.data, errors="surrogate_or_strict"))


class K8sClient:
    """JSON requests against one API server with the configuration of the connection options."""

    def __init__(self, api_client, timeout=30.0):
        self.api_client = api_client
        self.configuration = api_client.configuration
        self.timeout = timeout
        self.impersonate_groups = []

    def _headers(self, accept, content_type):
        headers = {"Accept": accept, "User-Agent": "sre.runbooks"}
        if content_type:
            headers["Content-Type"] = content_type
        headers.update(self.api_client.default_headers)
        config = self.configuration
        token = config.get_api_key_with_prefix("BearerToken", alias="authorization")
        if token:
            headers["Authorization"] = token
        elif config.username and config.password:
            headers["Authorization"] = config.get_basic_auth_token()
        return headers

    def send(
        self,
        method,
        path,
        *,
        params=None,
        body=None,
        content_type=None,
        accept=None,
        headers=None,
        timeout=None,
    ):
        """One exchange; returns a ``Response`` whatever its status (``OSError`` when no answer)."""
        url = self.configuration.host.rstrip("/") + path
        query = [(k, v) for k, v in (params or {}).items() if v is not None]
        if query:
            url += "?" + urlencode(query)
        all_headers = self._headers(accept or "application/json", content_type)
        all_headers.update(headers or {})
        if self.impersonate_groups:
            # The API server wants one Impersonate-Group header per group.
            all_headers = _library()["HTTPHeaderDict"](all_headers)
            for group in self.impersonate_groups:
                all_headers.add("Impersonate-Group", group)
        data = body
        if body is not None and not isinstance(body, (bytes, str)):
            data = json.dumps(body)
            all_headers.setdefault("Content-Type", "application/json")
        # The ApiClient's urllib3 pool carries TLS, client certificates and proxy settings; going
        # through it directly keeps the same code working across kubernetes client versions,
        # whose call_api signatures differ, and leaves status handling here.
        answer = self.api_client.rest_client.pool_manager.request(
            method,
            url,
            body=data,
            headers=all_headers,
            timeout=timeout or self.timeout,
            preload_content=True,
        )
        return Response(answer.status, answer.headers, answer.data)

    def request(self, method, path, action, target, *, allow_404=False, raw=False, **kwargs):
        """JSON answer of a request (``raw``: the ``Response``); errors become ``K8sError``.

        With ``allow_404``, a 404 answer returns None.
        """
        try:
            response = self.send(method, path, **kwargs)
        except Exception as error:  # urllib3 raises many types; all mean "no answer"
            raise K8sError(
                action, target, message="API server unreachable: %s" % to_native(error)
            ) from None
        if response.status == 404 and allow_404:
            return None
        if response.status >= 400:
            reason, message = _status_fields(response.data)
            raise K8sError(action, target, response.status, reason, message, body=response.data)
        if raw:
            return response
        if not response.data:
            return None
        try:
            return response.json()
        except ValueError:
            raise K8sError(
                action,
                target,
                response.status,
                message="the answer is not JSON: %s" % to_text(response.data[:200]),
            ) from None

    # Object helpers -----------------------------------------------------------------------

    def get(self, kind, namespace, name, action="read", allow_404=False):
        return self.request(
            "GET",
            resource_path(kind, namespace, name),
            action,
            target_text(kind, namespace, name),
            allow_404=allow_404,
        )

    def list(self, kind, namespace=None, selector=None, field_selector=None, action="list"):
        answer = self.request(
            "GET",
            resource_path(kind, namespace),
            action,
            target_text(kind + "s", namespace, None) if namespace else kind + "s",
            params={"labelSelector": selector or None, "fieldSelector": field_selector or None},
        )
        return (answer or {}).get("items") or []

    def patch(
        self, kind, namespace, name, patch, *, patch_type="strategic", dry_run=False, action="patch"
    ):
        return self.request(
            "PATCH",
            resource_path(kind, namespace, name),
            action,
            target_text(kind, namespace, name),
            params={"dryRun": "All" if dry_run else None},
            body=patch,
            content_type=PATCH_TYPES[patch_type],
        )


def _configuration(params):
    """A private ``Configuration`` from the options, as kubernetes.core resolves them."""

    def given(*names):
        return all(params.get(name) for name in names)

    lib = _library()
    configuration = lib["Configuration"]()
    explicit = (
        given("host", "api_key")
        or given("host", "username", "password")
        or given("host", "client_cert", "client_key")
    )
    kubeconfig = params.get("kubeconfig")
    if not explicit:
        loaded = False
        if not kubeconfig and not params.get("context"):
            try:
                lib["incluster_config"].InClusterConfigLoader(
                    token_filename=lib["incluster_config"].SERVICE_TOKEN_FILENAME,
                    cert_filename=lib["incluster_config"].SERVICE_CERT_FILENAME,
                ).load_and_set(configuration)
                loaded = True
            except lib["ConfigException"]:
                loaded = False
        if not loaded:
            options = dict(
                context=params.get("context"),
                client_configuration=configuration,
                persist_config=False,
            )
            if isinstance(kubeconfig, dict):
                lib["kube_config"].load_kube_config_from_dict(config_dict=kubeconfig, **options)
            else:
                lib["kube_config"].load_kube_config(config_file=kubeconfig or None, **options)
    if params.get("host"):
        configuration.host = params["host"].rstrip("/")
    if params.get("api_key"):
        configuration.api_key = {"authorization": "Bearer %s" % params["api_key"]}
        configuration.api_key_prefix = {}
    for option, attribute in (
        ("username", "username"),
        ("password", "password"),
        ("validate_certs", "verify_ssl"),
        ("ca_cert", "ssl_ca_cert"),
        ("client_cert", "cert_file"),
        ("client_key", "key_file"),
        ("proxy", "proxy"),
    ):
        if params.get(option) is not None:
            setattr(configuration, attribute, params[option])
    return configuration


_POOL = {}


def client_from_options(params, timeout=30.0):
    """The (cached) client for these connection options; ``K8sError`` when they do not work."""
    key = json.dumps([params.get(name) for name in K8S_OPTIONS], sort_keys=True, default=str)
    if key in _POOL:
        return _POOL[key]
    try:
        configuration = _configuration(params)
    except ImportError:
        raise K8sError(
            "load", "the Kubernetes client", message="the kubernetes Python package is missing"
        ) from None
    except (
        _library()["ConfigException"],
        OSError,
        TypeError,
        ValueError,
        _library()["YAMLError"],
    ) as error:
        raise K8sError("load", "the Kubernetes configuration", message=to_native(error)) from None
    api_client = _library()["ApiClient"](configuration)
    if params.get("impersonate_user"):
        api_client.set_default_header("Impersonate-User", params["impersonate_user"])
    client = K8sClient(api_client, timeout=timeout)
    client.impersonate_groups = list(params.get("impersonate_groups") or [])
    _POOL[key] = client
    return client


SECRET_KUBECONFIG_KEYS = frozenset(
    [
        "token",
        "password",
        "client-key-data",
        "client-certificate-data",
        "access-token",
        "refresh-token",
        "id-token",
        "client-secret",
        "secret",
    ]
)


def kubeconfig_secrets(data):
    """The string values of a kubeconfig dict that must never be shown."""
    found = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key in SECRET_KUBECONFIG_KEYS and isinstance(value, str) and value:
                found.add(value)
            else:
                found.update(kubeconfig_secrets(value))
    elif isinstance(data, list):
        for item in data:
            found.update(kubeconfig_secrets(item))
    return found


class K8sModule(AnsibleModule):
    """AnsibleModule with the Kubernetes connection options merged into its spec."""

    def __init__(self, argument_spec, **kwargs):
        spec = k8s_argument_spec()
        spec.update(argument_spec)
        super(K8sModule, self).__init__(argument_spec=spec, **kwargs)
        self._mask_inline_kubeconfig()  # also when no_log skipped the invocation log
        error = import_error()
        if error:
            self.fail_json(msg=missing_required_lib("kubernetes"), exception=error)
        self._client = None

    def _mask_inline_kubeconfig(self):
        """A kubeconfig given inline carries tokens and keys: keep them out of every output."""
        if isinstance(self.params.get("kubeconfig"), dict):
            self.no_log_values.update(kubeconfig_secrets(self.params["kubeconfig"]))

    def _log_invocation(self):
        # AnsibleModule logs its arguments (syslog/journal) within __init__, before our own
        # __init__ code runs: mask first.
        self._mask_inline_kubeconfig()
        super(K8sModule, self)._log_invocation()

    def client(self):
        if self._client is None:
            try:
                self._client = client_from_options(self.params)
            except K8sError as error:
                self.fail_from_exception(error)
        return self._client

    def fail_from_exception(self, error, **result):
        """One place where a ``K8sError`` becomes a failed result with its status and reason."""
        if isinstance(error, K8sError):
            result.setdefault("status", error.status)
            result.setdefault("reason", error.reason)
        self.fail_json(msg=to_text(error), **result)
