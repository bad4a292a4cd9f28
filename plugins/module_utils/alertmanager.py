# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Alertmanager API v2 client and the silence logic behind the Alertmanager modules.

The functions above the client are pure (no I/O, ``now`` passed in) so unit tests call them
directly: matcher parsing, durations, timestamps, the desired window and ``plan_silence``.

Behaviour of Alertmanager 0.25 this code relies on (checked against the real server):

- ``POST /api/v2/silences`` with an ``id`` updates that silence in place, keeping the ID, when
  the matchers are identical *in the same order*, and, for an active silence, ``startsAt`` is
  unchanged and ``endsAt`` is not in the past (for a pending one, ``startsAt`` is not in the
  past). Comment, creator and ``endsAt`` (longer or shorter) may change. Any other update expires
  the old silence and creates a new one with a new ID. Extensions here therefore resend the
  server's own matchers and ``startsAt`` verbatim, which keeps the ID.
- A new silence whose ``startsAt`` is in the past starts at the server's current time.
- The server rejects a silence whose every matcher matches the empty string (an equality
  matcher with an empty value, a regex such as ``.*``); negative matchers never count as matching
  the empty string there.
- The silence list ``filter`` only indexes positive, non-regex matchers of a silence.
- ``DELETE /api/v2/silence/{id}`` of an expired silence answers 200; of an unknown one, 500.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import re
import warnings

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible_collections.sre.runbooks.plugins.module_utils._http import (
    APIClient,
    APIError,
    APIModule,
)

UTC = datetime.timezone.utc
DEFAULT_CREATED_BY = "sre.runbooks"
DEFAULT_MIN_EXTENSION = "5m"
# Silences that still silence (or will): the only ones ever reused or expired.
LIVE_STATES = ("active", "pending")
ACTIONS = {"create": "created", "extend": "extended", "none": "unchanged"}
# How far a new silence starting "now" is backdated (Alertmanager moves it to its own now).
CLOCK_SKEW = datetime.timedelta(minutes=1)


class InputError(ValueError):
    """Invalid input, found before any request is sent."""


# ---------------------------------------------------------------------------------------------
# Matchers
# ---------------------------------------------------------------------------------------------

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_MATCHER_STRING = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$", re.DOTALL)
# operator -> (isRegex, isEqual), and back.
_OPERATORS = {"=": (False, True), "!=": (False, False), "=~": (True, True), "!~": (True, False)}
_OPERATOR_OF = {flags: op for op, flags in _OPERATORS.items()}
_MATCHER_KEYS = frozenset(["name", "value", "is_regex", "is_equal"])
MATCHER_FORMS = 'name="value", name!="value", name=~"regex" or name!~"regex"'


def _unescape(raw, text):
    """The value of a matcher string, as Alertmanager's own parser reads it.

    Optional surrounding double quotes; ``\\\\``, ``\\"`` and ``\\n`` are escapes, any other
    backslash is literal (so ``instance=~"db-\\d+"`` needs no doubling); an unescaped double
    quote inside the value is an error.
    """
    quoted = raw.startswith('"')
    if quoted:
        if len(raw) < 2 or not raw.endswith('"') or _escaped_at_end(raw[1:-1]):
            raise InputError(
                "invalid matcher %r: the value's closing double quote is missing" % text
            )
        raw = raw[1:-1]
    value = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            following = raw[index + 1]
            value.append({"n": "\n", '"': '"', "\\": "\\"}.get(following, "\\" + following))
            index += 2
            continue
        if char == '"':
            raise InputError(
                'invalid matcher %r: a double quote inside the value must be escaped as \\"' % text
            )
        value.append(char)
        index += 1
    return "".join(value)


def _escaped_at_end(raw):
    """Whether ``raw`` ends in an odd number of backslashes (its last quote would be escaped)."""
    return (len(raw) - len(raw.rstrip("\\"))) % 2 == 1


def parse_matcher_string(text):
    """``name="value"``, ``name!="v"``, ``name=~"re"`` or ``name!~"re"`` as an API matcher."""
    match = _MATCHER_STRING.match(text)
    if not match:
        raise InputError("invalid matcher %r: use %s" % (text, MATCHER_FORMS))
    name, operator, raw = match.groups()
    is_regex, is_equal = _OPERATORS[operator]
    return dict(name=name, value=_unescape(raw, text), isRegex=is_regex, isEqual=is_equal)


def _matcher_from_dict(item):
    unknown = sorted(set(item) - _MATCHER_KEYS)
    if unknown:
        raise InputError(
            "unknown key(s) %s; a matcher has name, value, is_regex and is_equal"
            % ", ".join(unknown)
        )
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise InputError("a matcher needs a non-empty name")
    value = item.get("value")
    if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError("matcher %r needs a string value" % name)
    flags = {}
    for key, default in (("is_regex", False), ("is_equal", True)):
        try:
            flags[key] = boolean(item.get(key, default), strict=True)
        except TypeError:
            raise InputError("matcher %r: %s must be a boolean" % (name, key)) from None
    return dict(
        name=name, value=to_text(value), isRegex=flags["is_regex"], isEqual=flags["is_equal"]
    )


def normalize_matcher(item):
    """One matcher, string or dict form, as Alertmanager's ``{name, value, isRegex, isEqual}``."""
    if isinstance(item, str):
        return parse_matcher_string(item)
    if isinstance(item, dict):
        return _matcher_from_dict(item)
    raise InputError("a matcher is a string such as %s, or a dict" % MATCHER_FORMS)


def normalize_matchers(items):
    """Every matcher in API form, duplicates dropped, the given order kept."""
    matchers = []
    seen = set()
    for index, item in enumerate(items or []):
        try:
            matcher = normalize_matcher(item)
        except InputError as error:
            raise InputError("matchers[%d]: %s" % (index, error)) from None
        if matcher_key(matcher) not in seen:
            seen.add(matcher_key(matcher))
            matchers.append(matcher)
    return matchers


def matcher_key(matcher):
    return (
        matcher.get("name"),
        matcher.get("value"),
        bool(matcher.get("isRegex")),
        # Alertmanager before 0.22 had no isEqual; absent means equal.
        bool(matcher.get("isEqual", True)),
    )


def matcher_set(matchers):
    """The order-insensitive identity of a list of API matchers."""
    return frozenset(matcher_key(m) for m in matchers or [])


def format_matcher(matcher):
    """The string form of an API matcher, which ``parse_matcher_string`` reads back."""
    _name, value, is_regex, is_equal = matcher_key(matcher)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '%s%s"%s"' % (matcher["name"], _OPERATOR_OF[(is_regex, is_equal)], escaped)


# RE2 syntax Python's re does not know: the pattern is left for Alertmanager to judge.
_RE2_ONLY = re.compile(r"\\[pPzCQ]|\[\[:")
# Python syntax RE2 (Alertmanager) rejects.
_PYTHON_ONLY = (
    (re.compile(r"(?<!\\)\(\?<?[=!]"), "lookahead and lookbehind assertions"),
    (re.compile(r"(?<!\\)\\[1-9]"), "backreferences"),
    (re.compile(r"(?<!\\)\(\?(?:>|P=)"), "atomic groups and named backreferences"),
)


def compile_regex(pattern):
    """The compiled pattern, None when it uses RE2-only syntax, InputError when invalid."""
    for expression, what in _PYTHON_ONLY:
        if expression.search(pattern):
            raise InputError(
                "invalid regular expression %r: Alertmanager's RE2 has no %s" % (pattern, what)
            )
    if _RE2_ONLY.search(pattern):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return re.compile(pattern)
        except re.error as error:
            raise InputError("invalid regular expression %r: %s" % (pattern, error)) from None


def matches_empty(matcher):
    """Whether Alertmanager counts this matcher as matching the empty string."""
    _name, value, is_regex, is_equal = matcher_key(matcher)
    if not is_equal:
        return False
    if not is_regex:
        return value == ""
    compiled = compile_regex(value)
    # Alertmanager anchors the pattern: ^(?:pattern)$.
    return compiled is not None and compiled.fullmatch("") is not None


def validate_silence_matchers(matchers):
    """Alertmanager's own rules for a silence's matchers, checked before any request."""
    if not matchers:
        raise InputError(
            "matchers is empty: a silence needs at least one matcher, "
            'for example alertname="DiskFull"'
        )
    for index, matcher in enumerate(matchers):
        if matcher["isRegex"]:
            try:
                compile_regex(matcher["value"])
            except InputError as error:
                raise InputError("matchers[%d]: %s" % (index, error)) from None
    if all(matches_empty(m) for m in matchers):
        raise InputError(
            "matchers %s would silence every alert: at least one matcher must not match the "
            "empty string (Alertmanager rejects such silences); add one such as "
            'alertname="DiskFull"' % ", ".join(format_matcher(m) for m in matchers)
        )


# ---------------------------------------------------------------------------------------------
# Durations and timestamps
# ---------------------------------------------------------------------------------------------

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_DURATION_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_duration(text, option="duration", allow_zero=False):
    """``30m``, ``1h``, ``1h30m``, ``2d``, ``1w`` as a timedelta (units w, d, h, m, s)."""
    text = to_text(text).strip()
    match = _DURATION.match(text)
    if not text or not match:
        raise InputError(
            "%s %r is not a duration: use whole numbers with the units w, d, h, m, s, largest "
            "first, for example 30m, 1h30m or 2d" % (option, text)
        )
    delta = datetime.timedelta(
        **{unit: int(n) for unit, n in zip(_DURATION_UNITS, match.groups(), strict=True) if n}
    )
    if not delta and not allow_zero:
        raise InputError("%s %r must be longer than zero" % (option, text))
    return delta


def parse_timestamp(text, option="timestamp"):
    """An RFC 3339 timestamp (with Z or an offset) as an aware UTC datetime."""
    match = _TIMESTAMP.match(to_text(text).strip())
    if not match:
        raise InputError(
            "%s %r is not an RFC 3339 timestamp with a time zone, such as "
            "2030-01-31T22:00:00Z or 2030-01-31T23:00:00+01:00" % (option, text)
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone in ("Z", "z"):
        offset = datetime.timedelta(0)
    else:
        sign = -1 if zone[0] == "-" else 1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        moment = datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=datetime.timezone(offset),
        )
    except ValueError as error:
        raise InputError("%s %r is not a valid time: %s" % (option, text, error)) from None
    return moment.astimezone(UTC)


def truncate_ms(moment):
    """Alertmanager keeps milliseconds; compare at that precision."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_timestamp(moment):
    """RFC 3339 in UTC with milliseconds, as Alertmanager writes it."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def utcnow():
    return datetime.datetime.now(UTC)


def silence_window(now, starts_at=None, ends_at=None, duration=None):
    """``(start, end)`` of the wanted silence: ``starts_at`` (default now) plus ``duration``,
    or up to ``ends_at``."""
    if duration and ends_at:
        raise InputError("duration and ends_at are mutually exclusive: give one of them")
    if not duration and not ends_at:
        raise InputError("a silence needs duration (such as 1h) or ends_at")
    start = parse_timestamp(starts_at, "starts_at") if starts_at else now
    end = start + parse_duration(duration) if duration else parse_timestamp(ends_at, "ends_at")
    if end <= start:
        raise InputError(
            "ends_at %s is not after starts_at %s"
            % (format_timestamp(end), format_timestamp(start))
        )
    if end <= now:
        raise InputError(
            "the silence would already be over: it ends at %s, before now (%s)"
            % (format_timestamp(end), format_timestamp(now))
        )
    return start, end


def desired_silence(params, now):
    """The silence ``state=present`` asks for, validated; raises InputError."""
    if params.get("silence_id"):
        raise InputError("silence_id is only used with state=absent")
    matchers = normalize_matchers(params.get("matchers"))
    validate_silence_matchers(matchers)
    comment = params.get("comment")
    if not comment or not comment.strip():
        raise InputError("comment is required with state=present: say why the alerts are silenced")
    start, end = silence_window(
        now, params.get("starts_at"), params.get("ends_at"), params.get("duration")
    )
    # A relative window moves with every run; tolerate that much so reruns change nothing.
    tolerance = datetime.timedelta(0)
    if params.get("duration"):
        tolerance = parse_duration(
            params.get("min_extension") or DEFAULT_MIN_EXTENSION, "min_extension", allow_zero=True
        )
    return dict(
        matchers=matchers,
        start_is_now=not params.get("starts_at"),
        starts_at=start,
        ends_at=end,
        comment=comment,
        created_by=params.get("created_by") or DEFAULT_CREATED_BY,
        tolerance=tolerance,
    )


# ---------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------


def silence_state(silence):
    return (silence.get("status") or {}).get("state")


def plan_silence(existing_silences, desired, now):
    """What ``state=present`` must do: ``(action, silence_id, before, after)``.

    ``action`` is ``create``, ``extend`` or ``none``; ``before`` and ``after`` are silences in
    API form (``before`` None for a create, ``after`` without ``id`` for a create).

    Only a live silence with the same matcher set (order-insensitive) and the same creator is
    reused, never an expired one: an active silence that lasts at least until the desired start
    (reusing one that ends earlier would also silence the gap), or a pending silence with the
    same start. Among several, the one ending last. It is extended, with the desired comment,
    when it ends more than ``desired["tolerance"]`` before the desired end; it is never
    shortened, and its comment is left alone when it is not extended.
    """
    wanted = matcher_set(desired["matchers"])
    desired_start = truncate_ms(desired["starts_at"])
    desired_end = truncate_ms(desired["ends_at"])
    candidates = []
    for silence in existing_silences or []:
        state = silence_state(silence)
        if state not in LIVE_STATES:
            continue
        if silence.get("createdBy") != desired["created_by"]:
            continue
        if matcher_set(silence.get("matchers")) != wanted:
            continue
        start = parse_timestamp(silence["startsAt"], "startsAt")
        end = parse_timestamp(silence["endsAt"], "endsAt")
        if state == "active" and end < desired_start:
            continue
        if state == "pending" and start != desired_start:
            continue
        candidates.append((end, silence.get("id") or "", silence))
    if not candidates:
        after = dict(
            matchers=[dict(m) for m in desired["matchers"]],
            startsAt=format_timestamp(desired_start),
            endsAt=format_timestamp(desired_end),
            createdBy=desired["created_by"],
            comment=desired["comment"],
            status=dict(state="active" if desired_start <= now else "pending"),
        )
        return "create", None, None, after
    end, silence_id, silence = max(candidates, key=lambda candidate: candidate[:2])
    before = dict(silence)
    if desired_end - end > desired.get("tolerance", datetime.timedelta(0)):
        after = dict(before, endsAt=format_timestamp(desired_end), comment=desired["comment"])
        return "extend", silence_id, before, after
    return "none", silence_id, before, before


def plan_expiry(existing_silences, matchers, created_by=None):
    """The live silences with exactly this matcher set (and this creator, when given)."""
    wanted = matcher_set(matchers)
    return [
        silence
        for silence in existing_silences or []
        if silence_state(silence) in LIVE_STATES
        and matcher_set(silence.get("matchers")) == wanted
        and (not created_by or silence.get("createdBy") == created_by)
    ]


def silence_payload(silence):
    """The body of ``POST /api/v2/silences`` for a planned silence (with ``id`` to update)."""
    keys = ("id", "matchers", "startsAt", "endsAt", "createdBy", "comment")
    return {key: silence[key] for key in keys if silence.get(key) is not None}


# ---------------------------------------------------------------------------------------------
# What modules return
# ---------------------------------------------------------------------------------------------


def matcher_view(matcher):
    name, value, is_regex, is_equal = matcher_key(matcher)
    return dict(name=name, value=value, is_regex=is_regex, is_equal=is_equal)


def silence_view(silence):
    """A silence as the modules return it: snake_case keys, matchers as option dicts."""
    if not silence:
        return None
    return dict(
        id=silence.get("id"),
        state=silence_state(silence),
        matchers=[matcher_view(m) for m in silence.get("matchers") or []],
        starts_at=silence.get("startsAt"),
        ends_at=silence.get("endsAt"),
        updated_at=silence.get("updatedAt"),
        created_by=silence.get("createdBy"),
        comment=silence.get("comment"),
    )


def silence_diff_view(silence):
    """A silence as diff mode shows it: matchers in their string form, no update time."""
    view = silence_view(silence)
    if view is None:
        return {}
    del view["updated_at"]
    view["matchers"] = [format_matcher(m) for m in silence.get("matchers") or []]
    return view


def alert_view(alert):
    """An alert as ``alertmanager_alert_info`` returns it (labels and annotations untouched)."""
    status = alert.get("status") or {}
    return dict(
        labels=alert.get("labels") or {},
        annotations=alert.get("annotations") or {},
        starts_at=alert.get("startsAt"),
        ends_at=alert.get("endsAt"),
        updated_at=alert.get("updatedAt"),
        fingerprint=alert.get("fingerprint"),
        status=dict(
            state=status.get("state"),
            silenced_by=list(status.get("silencedBy") or []),
            inhibited_by=list(status.get("inhibitedBy") or []),
        ),
        generator_url=alert.get("generatorURL"),
        receivers=[r.get("name") for r in alert.get("receivers") or []],
    )


# ---------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------


def _bool_param(value):
    return None if value is None else ("true" if value else "false")


def unquote_detail(detail):
    """Alertmanager answers some errors with a bare JSON string: "silence invalid: ..."."""
    if isinstance(detail, str) and detail.startswith('"'):
        try:
            decoded = json.loads(detail)
        except ValueError:
            return detail
        if isinstance(decoded, str):
            return decoded
    return detail


def silence_filters(matchers):
    """Server-side narrowing for a silence search (the exact match is made client-side).

    Alertmanager's silence filter only sees positive, non-regex matchers, one value per name,
    so only those are sent.
    """
    names = [m["name"] for m in matchers]
    return [
        format_matcher(m)
        for m in matchers
        if m["isEqual"]
        and not m["isRegex"]
        and names.count(m["name"]) == 1
        and LABEL_NAME.match(m["name"])
    ]


class AlertmanagerClient(APIClient):
    """Alertmanager API v2."""

    service = "Alertmanager"

    def request(self, method, path, action, **kwargs):
        try:
            return super(AlertmanagerClient, self).request(method, path, action, **kwargs)
        except APIError as error:
            detail = unquote_detail(error.detail)
            if detail == error.detail:
                raise
            raise APIError(error.action, error.url, error.status, detail, error.body) from None

    def list_silences(self, matchers=None):
        """Every silence (any state) that may have exactly these matchers."""
        filters = silence_filters(matchers or [])
        silences = self.request(
            "GET",
            "/api/v2/silences",
            "list silences",
            params={"filter": filters} if filters else None,
        )
        return silences or []

    def get_silence(self, silence_id):
        """One silence, or None when Alertmanager does not know the ID."""
        try:
            return self.request(
                "GET",
                "/api/v2/silence/%s" % quote(silence_id, safe=""),
                "read silence %s" % silence_id,
            )
        except APIError as error:
            if error.status == 404:
                return None
            raise

    def create_or_update_silence(self, payload):
        """POST a silence (an update when ``payload`` has ``id``); returns the resulting ID."""
        action = "update silence %s" % payload["id"] if payload.get("id") else "create silence"
        answer = self.request("POST", "/api/v2/silences", action, body=payload, read=False)
        if not isinstance(answer, dict) or not answer.get("silenceID"):
            raise APIError(
                action, self.url + "/api/v2/silences", detail="no silenceID in %r" % (answer,)
            )
        return answer["silenceID"]

    def expire_silence(self, silence_id):
        self.request(
            "DELETE",
            "/api/v2/silence/%s" % quote(silence_id, safe=""),
            "expire silence %s" % silence_id,
            read=False,
        )

    def list_alerts(
        self,
        matchers=None,
        *,
        active=None,
        silenced=None,
        inhibited=None,
        unprocessed=None,
        receiver=None,
    ):
        params = {
            "filter": [format_matcher(m) for m in matchers or []],
            "active": _bool_param(active),
            "silenced": _bool_param(silenced),
            "inhibited": _bool_param(inhibited),
            "unprocessed": _bool_param(unprocessed),
            "receiver": receiver,
        }
        return self.request("GET", "/api/v2/alerts", "list alerts", params=params) or []


class AlertmanagerModule(APIModule):
    client_class = AlertmanagerClient
    env_prefix = "ALERTMANAGER"


# ---------------------------------------------------------------------------------------------
# Module runs
# ---------------------------------------------------------------------------------------------


def ensure_silence_present(client, params, check_mode=False, now=None):
    """Create, extend or keep the silence; returns ``(result, diff)``."""
    now = now or utcnow()
    desired = desired_silence(params, now)
    existing = client.list_silences(desired["matchers"])
    action, silence_id, before, after = plan_silence(existing, desired, now)
    result = dict(
        changed=action != "none",
        outcome=ACTIONS[action],
        silence_id=silence_id,
        silence=silence_view(after),
    )
    if action != "none" and not check_mode:
        payload = silence_payload(after)
        if action == "create" and desired["start_is_now"]:
            # Alertmanager starts a silence whose start is past at its own "now", so a host
            # clock running ahead of the server's cannot leave the new silence pending.
            payload["startsAt"] = format_timestamp(now - CLOCK_SKEW)
        new_id = client.create_or_update_silence(payload)
        if silence_id and new_id != silence_id:
            # Alertmanager replaced the silence instead of updating it (see the module docs).
            result["previous_silence_id"] = silence_id
        result["silence_id"] = new_id
        try:
            after = client.get_silence(new_id) or dict(after, id=new_id)
        except APIError as error:
            # The silence was written: a failed read-back must still say so, with its ID.
            result["silence"] = silence_view(dict(after, id=new_id))
            error.result = result
            raise
        result["silence"] = silence_view(after)
    return result, dict(before=silence_diff_view(before), after=silence_diff_view(after))


def ensure_silence_absent(client, params, check_mode=False, now=None):
    """Expire the silence given by ID, or every live one with these matchers."""
    now = now or utcnow()
    silence_id = params.get("silence_id")
    if silence_id:
        found = client.get_silence(silence_id)
        targets = [found] if found and silence_state(found) in LIVE_STATES else []
    else:
        matchers = normalize_matchers(params.get("matchers"))
        if not matchers:
            raise InputError("state=absent needs silence_id or a non-empty matchers list")
        found = None
        targets = plan_expiry(client.list_silences(matchers), matchers, params.get("created_by"))
    expired = []
    for silence in targets:
        if check_mode:
            expired.append(
                dict(silence, status=dict(state="expired"), endsAt=format_timestamp(now))
            )
            continue
        try:
            client.expire_silence(silence["id"])
        except APIError as error:
            error.result = dict(
                changed=bool(expired), expired_silence_ids=[s["id"] for s in expired]
            )
            raise
        expired.append(client.get_silence(silence["id"]) or dict(silence))
    ids = [s["id"] for s in expired]
    single = expired[0] if len(expired) == 1 else (found if not targets else None)
    result = dict(
        changed=bool(expired),
        outcome="expired" if expired else "unchanged",
        silence_id=silence_id or (ids[0] if len(ids) == 1 else None),
        silence=silence_view(single),
        expired_silence_ids=ids,
    )
    diff = dict(
        before=dict(silences=[silence_diff_view(s) for s in targets]),
        after=dict(silences=[silence_diff_view(s) for s in expired]),
    )
    return result, diff


def run_silence(client, params, check_mode=False, diff=False, now=None):
    """The whole ``alertmanager_silence`` run: the module only adds the spec and exit_json."""
    if params.get("state") == "absent":
        result, changes = ensure_silence_absent(client, params, check_mode, now)
    else:
        result, changes = ensure_silence_present(client, params, check_mode, now)
    if diff:
        result["diff"] = changes
    return result


def alert_info(client, params):
    """The ``alertmanager_alert_info`` run."""
    matchers = normalize_matchers(params.get("matchers"))
    if params.get("alertname"):
        matchers.insert(
            0, dict(name="alertname", value=params["alertname"], isRegex=False, isEqual=True)
        )
    alerts = client.list_alerts(
        matchers,
        active=params.get("active"),
        silenced=params.get("silenced"),
        inhibited=params.get("inhibited"),
        unprocessed=params.get("unprocessed"),
        receiver=params.get("receiver"),
    )
    return dict(changed=False, alerts=[alert_view(a) for a in alerts])
