"""Pure logic of the Alertmanager plugins: matchers, durations, windows, plans, error details."""

import datetime
import io
import json

import pytest
from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible_collections.sre.runbooks.plugins.module_utils import _http
from ansible_collections.sre.runbooks.plugins.module_utils import alertmanager as am

UTC = datetime.UTC
NOW = datetime.datetime(2030, 1, 31, 22, 0, 0, 123456, tzinfo=UTC)


def api_matcher(name, value, is_regex=False, is_equal=True):
    return {"name": name, "value": value, "isRegex": is_regex, "isEqual": is_equal}


def stamp(moment):
    return am.format_timestamp(moment)


def silence(
    silence_id,
    matchers,
    *,
    state="active",
    starts=NOW - datetime.timedelta(minutes=10),
    ends=NOW + datetime.timedelta(hours=1),
    created_by="sre.runbooks",
    comment="first",
):
    return {
        "id": silence_id,
        "status": {"state": state},
        "matchers": matchers,
        "startsAt": stamp(starts),
        "endsAt": stamp(ends),
        "updatedAt": stamp(starts),
        "createdBy": created_by,
        "comment": comment,
    }


DISK = [api_matcher("alertname", "DiskFull"), api_matcher("instance", "db-1")]
# The same matchers as a user writes them.
DISK_OPTION = ['alertname="DiskFull"', {"name": "instance", "value": "db-1"}]


def desired(matchers=DISK_OPTION, **params):
    base = {"matchers": matchers, "duration": "1h", "comment": "second"}
    base.update(params)
    return am.desired_silence(base, NOW)


# --- matchers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('alertname="DiskFull"', api_matcher("alertname", "DiskFull")),
        ('instance=~"db-\\d+"', api_matcher("instance", "db-\\d+", is_regex=True)),
        ('severity!="info"', api_matcher("severity", "info", is_equal=False)),
        ('job!~"test.*"', api_matcher("job", "test.*", is_regex=True, is_equal=False)),
        ("alertname=DiskFull", api_matcher("alertname", "DiskFull")),
        ('  env = "prod"  ', api_matcher("env", "prod")),
        ('msg="say \\"hi\\"\\nback\\\\slash"', api_matcher("msg", 'say "hi"\nback\\slash')),
        ('empty=""', api_matcher("empty", "")),
        ('eq="a=~b"', api_matcher("eq", "a=~b")),
    ],
)
def test_matcher_string_forms_parse_like_alertmanager(text, expected):
    assert am.normalize_matcher(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alertname", "use name="),
        ('"alertname"="x"', "use name="),
        ('bad name="x"', "use name="),
        ('alertname="unterminated', "closing double quote"),
        ('alertname="ends in escape\\"', "closing double quote"),
        ('alertname="in"side"', "must be escaped"),
        ('alertname=="x"', "must be escaped"),
    ],
)
def test_invalid_matcher_strings_are_refused_with_the_accepted_forms(text, message):
    with pytest.raises(am.InputError, match=message):
        am.normalize_matcher(text)


def test_dict_matchers_default_to_a_plain_equality():
    assert am.normalize_matcher({"name": "a", "value": "1"}) == api_matcher("a", "1")
    assert am.normalize_matcher(
        {"name": "a", "value": "1.*", "is_regex": "yes", "is_equal": False}
    ) == api_matcher("a", "1.*", is_regex=True, is_equal=False)
    assert am.normalize_matcher({"name": "port", "value": 9100}) == api_matcher("port", "9100")


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"value": "x"}, "non-empty name"),
        ({"name": "a"}, "string value"),
        ({"name": "a", "value": True}, "string value"),
        ({"name": "a", "value": "x", "regex": True}, "unknown key"),
        ({"name": "a", "value": "x", "is_regex": "maybe"}, "is_regex must be a boolean"),
        (42, "a matcher is a string"),
    ],
)
def test_invalid_dict_matchers_are_refused(item, message):
    with pytest.raises(am.InputError, match=message):
        am.normalize_matcher(item)


def test_matchers_are_deduplicated_keeping_order_and_errors_name_the_index():
    assert am.normalize_matchers(['b="2"', {"name": "a", "value": "1"}, "b=2"]) == [
        api_matcher("b", "2"),
        api_matcher("a", "1"),
    ]
    with pytest.raises(am.InputError, match=r"^matchers\[1\]: "):
        am.normalize_matchers(['a="1"', "nonsense"])


@pytest.mark.parametrize(
    "matcher",
    [
        api_matcher("a", "plain"),
        api_matcher("a", 'quo"te\\back\nline=~', is_regex=True, is_equal=False),
        api_matcher("b", "", is_equal=False),
    ],
)
def test_formatted_matchers_parse_back_to_the_same_matcher(matcher):
    assert am.parse_matcher_string(am.format_matcher(matcher)) == matcher


def test_matcher_sets_ignore_order_and_treat_missing_is_equal_as_equal():
    reordered = [DISK[1], DISK[0]]
    assert am.matcher_set(DISK) == am.matcher_set(reordered)
    legacy = [{"name": "alertname", "value": "DiskFull", "isRegex": False}, DISK[1]]
    assert am.matcher_set(legacy) == am.matcher_set(DISK)
    assert am.matcher_set(DISK) != am.matcher_set([DISK[0]])


# --- validation -------------------------------------------------------------------------------


def test_empty_matchers_are_refused():
    with pytest.raises(am.InputError, match="matchers is empty"):
        am.validate_silence_matchers([])


@pytest.mark.parametrize(
    "matchers",
    [
        [api_matcher("a", "")],
        [api_matcher("a", ".*", is_regex=True)],
        [api_matcher("a", "x|", is_regex=True), api_matcher("b", "")],
    ],
)
def test_matchers_that_all_match_the_empty_string_are_refused(matchers):
    with pytest.raises(am.InputError, match="would silence every alert"):
        am.validate_silence_matchers(matchers)


@pytest.mark.parametrize(
    "matchers",
    [
        [api_matcher("a", "x")],
        [api_matcher("a", ".+", is_regex=True)],
        # Alertmanager never counts a negative matcher as matching the empty string.
        [api_matcher("a", "x", is_equal=False)],
        [api_matcher("a", ""), api_matcher("b", "y")],
        # RE2-only syntax is left for Alertmanager to judge.
        [api_matcher("a", "\\pL+", is_regex=True)],
        [api_matcher("a", "[[:alpha:]]+", is_regex=True)],
    ],
)
def test_matchers_alertmanager_accepts_pass_validation(matchers):
    am.validate_silence_matchers(matchers)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(", "invalid regular expression '\\(': missing \\), unterminated subpattern"),
        ("a(?=b)", "invalid regular expression .*: Alertmanager's RE2 has no lookahead"),
        ("(a)\\1", "invalid regular expression .*: Alertmanager's RE2 has no backreferences"),
    ],
)
def test_bad_regexes_are_refused_before_any_request(pattern, message):
    with pytest.raises(am.InputError, match=r"^matchers\[0\]: " + message):
        am.validate_silence_matchers([api_matcher("a", pattern, is_regex=True)])


# --- durations, timestamps, windows -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", datetime.timedelta(minutes=30)),
        ("1h", datetime.timedelta(hours=1)),
        ("1h30m", datetime.timedelta(hours=1, minutes=30)),
        ("2d", datetime.timedelta(days=2)),
        ("1w2d3h4m5s", datetime.timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        (" 90m ", datetime.timedelta(minutes=90)),
    ],
)
def test_durations_parse(text, expected):
    assert am.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "90", "1x", "1.5h", "30m1h", "1H", "-1h", "1 h"])
def test_unknown_or_malformed_durations_are_refused(text):
    with pytest.raises(am.InputError, match="is not a duration: use whole numbers with the units"):
        am.parse_duration(text)


def test_zero_duration_is_refused_unless_allowed():
    with pytest.raises(am.InputError, match="must be longer than zero"):
        am.parse_duration("0m")
    assert am.parse_duration("0s", allow_zero=True) == datetime.timedelta(0)


def test_timestamps_parse_to_utc_and_format_with_milliseconds():
    moment = am.parse_timestamp("2030-01-31T23:00:00.987654321+01:00")
    assert moment == datetime.datetime(2030, 1, 31, 22, 0, 0, 987654, tzinfo=UTC)
    assert am.format_timestamp(moment) == "2030-01-31T22:00:00.987Z"
    assert am.parse_timestamp("2030-01-31t22:00:00z").tzinfo == UTC


@pytest.mark.parametrize("text", ["2030-01-31T22:00:00", "tomorrow", "2030-02-30T22:00:00Z"])
def test_timestamps_without_zone_or_invalid_are_refused(text):
    with pytest.raises(am.InputError, match="starts_at"):
        am.parse_timestamp(text, "starts_at")


def test_window_starts_now_by_default_and_lasts_the_duration():
    assert am.silence_window(NOW, duration="1h30m") == (
        NOW,
        NOW + datetime.timedelta(hours=1, minutes=30),
    )
    start, end = am.silence_window(
        NOW, starts_at="2030-02-01T10:00:00Z", ends_at="2030-02-01T12:00:00+01:00"
    )
    assert (stamp(start), stamp(end)) == ("2030-02-01T10:00:00.000Z", "2030-02-01T11:00:00.000Z")


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"ends_at": "2030-02-01T10:00:00Z", "starts_at": "2030-02-01T11:00:00Z"}, "is not after"),
        (
            {"starts_at": "2030-01-31T20:00:00Z", "ends_at": "2030-01-31T21:00:00Z"},
            "would already be over",
        ),
        ({"duration": "1h", "ends_at": "2030-02-01T10:00:00Z"}, "mutually exclusive"),
        ({}, "needs duration"),
        ({"duration": "soon"}, "not a duration"),
    ],
)
def test_invalid_windows_are_refused(window, message):
    with pytest.raises(am.InputError, match=message):
        am.silence_window(NOW, **window)


def test_desired_silence_requires_a_comment_and_defaults_the_creator():
    with pytest.raises(am.InputError, match="comment is required"):
        desired(comment="  ")
    wanted = desired()
    assert wanted["created_by"] == "sre.runbooks"
    assert wanted["tolerance"] == datetime.timedelta(minutes=5)
    assert desired(ends_at="2030-02-01T00:00:00Z", duration=None)["tolerance"] == (
        datetime.timedelta(0)
    )
    with pytest.raises(am.InputError, match="only used with state=absent"):
        desired(silence_id="abc")


# --- plan_silence -----------------------------------------------------------------------------


def test_a_silence_is_created_when_none_exists():
    action, silence_id, before, after = am.plan_silence([], desired(), NOW)
    assert (action, silence_id, before) == ("create", None, None)
    assert after["startsAt"] == "2030-01-31T22:00:00.123Z"
    assert after["endsAt"] == "2030-01-31T23:00:00.123Z"
    assert after["status"] == {"state": "active"}
    assert "id" not in am.silence_payload(after)


def test_silence_is_reused_when_matchers_match():
    existing = silence("s1", DISK, ends=NOW + datetime.timedelta(minutes=58))
    action, silence_id, before, after = am.plan_silence([existing], desired(), NOW)
    assert (action, silence_id) == ("none", "s1")
    assert before == after == existing
    assert after["comment"] == "first"  # the comment changes only with an extension


def test_silence_is_reused_whatever_the_matcher_order():
    existing = silence("s1", [DISK[1], DISK[0]])
    assert am.plan_silence([existing], desired(), NOW)[:2] == ("none", "s1")


def test_silence_ending_too_soon_is_extended_keeping_its_matchers_and_start():
    existing = silence("s1", [DISK[1], DISK[0]], ends=NOW + datetime.timedelta(minutes=20))
    action, silence_id, before, after = am.plan_silence([existing], desired(), NOW)
    assert (action, silence_id) == ("extend", "s1")
    assert before == existing
    assert after["endsAt"] == "2030-01-31T23:00:00.123Z"
    assert after["comment"] == "second"
    payload = am.silence_payload(after)
    # Alertmanager keeps the ID only for identical matchers (same order) and start.
    assert payload["id"] == "s1"
    assert payload["matchers"] == existing["matchers"]
    assert payload["startsAt"] == existing["startsAt"]
    assert set(payload) == {"id", "matchers", "startsAt", "endsAt", "createdBy", "comment"}


def test_min_extension_decides_whether_a_relative_window_extends():
    existing = silence("s1", DISK, ends=NOW + datetime.timedelta(minutes=54))
    assert am.plan_silence([existing], desired(), NOW)[0] == "extend"
    assert am.plan_silence([existing], desired(min_extension="10m"), NOW)[0] == "none"
    nearly = silence("s1", DISK, ends=NOW + datetime.timedelta(minutes=59, seconds=59))
    assert am.plan_silence([nearly], desired(min_extension="0s"), NOW)[0] == "extend"


def test_an_absolute_end_is_exact():
    existing = silence("s1", DISK, ends=datetime.datetime(2030, 2, 1, tzinfo=UTC))
    same = desired(duration=None, ends_at="2030-02-01T00:00:00Z")
    assert am.plan_silence([existing], same, NOW)[0] == "none"
    later = desired(duration=None, ends_at="2030-02-01T00:00:01Z")
    assert am.plan_silence([existing], later, NOW)[0] == "extend"


def test_a_longer_silence_is_never_shortened():
    existing = silence("s1", DISK, ends=NOW + datetime.timedelta(days=1))
    assert am.plan_silence([existing], desired(duration="30m"), NOW)[:2] == ("none", "s1")


def test_expired_silences_are_never_reused():
    expired = silence("old", DISK, state="expired", ends=NOW - datetime.timedelta(minutes=1))
    assert am.plan_silence([expired], desired(), NOW)[:2] == ("create", None)


def test_silences_of_another_creator_are_not_reused():
    theirs = silence("s1", DISK, created_by="alice")
    assert am.plan_silence([theirs], desired(), NOW)[:2] == ("create", None)
    assert am.plan_silence([theirs], desired(created_by="alice"), NOW)[:2] == ("none", "s1")


def test_silences_with_more_fewer_or_other_matchers_are_not_reused():
    more = silence("more", [*DISK, api_matcher("env", "prod")])
    fewer = silence("fewer", DISK[:1])
    regex = silence("regex", [DISK[0], api_matcher("instance", "db-1", is_regex=True)])
    assert am.plan_silence([more, fewer, regex], desired(), NOW)[:2] == ("create", None)


def test_a_pending_silence_is_reused_only_with_the_same_start():
    start = NOW + datetime.timedelta(hours=2)
    pending = silence("p1", DISK, state="pending", starts=start, ends=start + _hours(1))
    tonight = desired(starts_at=stamp(start))
    assert am.plan_silence([pending], tonight, NOW)[:2] == ("none", "p1")
    assert am.plan_silence([pending], desired(), NOW)[:2] == ("create", None)


def test_an_active_silence_ending_before_the_wanted_start_is_not_stretched_over_the_gap():
    existing = silence("s1", DISK, ends=NOW + _hours(1))
    tomorrow = desired(starts_at=stamp(NOW + _hours(24)))
    assert am.plan_silence([existing], tomorrow, NOW)[:2] == ("create", None)
    _, _, _, after = am.plan_silence([existing], tomorrow, NOW)
    assert after["status"] == {"state": "pending"}


def test_of_several_live_candidates_the_one_ending_last_is_used():
    short = silence("a-short", DISK, ends=NOW + _hours(1))
    long = silence("b-long", DISK, ends=NOW + _hours(3))
    assert am.plan_silence([short, long], desired(), NOW)[:2] == ("none", "b-long")


def test_expiry_targets_live_silences_with_exactly_the_matchers():
    mine = silence("mine", DISK)
    theirs = silence("theirs", [DISK[1], DISK[0]], created_by="alice", state="pending")
    gone = silence("gone", DISK, state="expired")
    other = silence("other", DISK[:1])
    everything = [mine, theirs, gone, other]
    assert [s["id"] for s in am.plan_expiry(everything, DISK)] == ["mine", "theirs"]
    assert [s["id"] for s in am.plan_expiry(everything, DISK, "alice")] == ["theirs"]
    assert am.plan_expiry(everything, [api_matcher("x", "y")]) == []


def _hours(n):
    return datetime.timedelta(hours=n)


# --- what modules return ----------------------------------------------------------------------


def test_silence_views_use_option_names():
    view = am.silence_view(silence("s1", [DISK[0]]))
    assert view["matchers"] == [
        {"name": "alertname", "value": "DiskFull", "is_regex": False, "is_equal": True}
    ]
    assert set(view) == {
        "id",
        "state",
        "matchers",
        "starts_at",
        "ends_at",
        "updated_at",
        "created_by",
        "comment",
    }
    assert am.silence_diff_view(silence("s1", DISK))["matchers"] == [
        'alertname="DiskFull"',
        'instance="db-1"',
    ]
    assert am.silence_view(None) is None
    assert am.silence_diff_view(None) == {}


def test_alert_views_keep_labels_and_flatten_receivers():
    alert = {
        "labels": {"alertname": "DiskFull", "startsAt": "label named like a field"},
        "annotations": {"summary": "full"},
        "startsAt": "a",
        "endsAt": "b",
        "updatedAt": "c",
        "fingerprint": "f",
        "status": {"state": "suppressed", "silencedBy": ["s1"], "inhibitedBy": []},
        "generatorURL": "http://g",
        "receivers": [{"name": "default"}, {"name": "pager"}],
    }
    view = am.alert_view(alert)
    assert view["labels"] == alert["labels"]
    assert view["status"] == {"state": "suppressed", "silenced_by": ["s1"], "inhibited_by": []}
    assert view["receivers"] == ["default", "pager"]
    assert (view["starts_at"], view["ends_at"], view["updated_at"]) == ("a", "b", "c")
    assert view["generator_url"] == "http://g"


def test_silence_filters_send_only_what_alertmanager_indexes():
    matchers = [
        api_matcher("alertname", "DiskFull"),
        api_matcher("instance", "db-.*", is_regex=True),
        api_matcher("env", "test", is_equal=False),
        api_matcher("twice", "a"),
        api_matcher("twice", "b", is_equal=False),
        api_matcher("odd name", "x"),
    ]
    assert am.silence_filters(matchers) == ['alertname="DiskFull"']


# --- runs against a client double -------------------------------------------------------------


class RecordingClient:
    """Serves fixed silences and records every write."""

    def __init__(self, silences=()):
        self.silences = {s["id"]: dict(s) for s in silences}
        self.writes = []

    def list_silences(self, matchers=None):
        return list(self.silences.values())

    def get_silence(self, silence_id):
        return self.silences.get(silence_id)

    def create_or_update_silence(self, payload):
        self.writes.append(("POST", payload))
        silence_id = payload.get("id") or f"new-{len(self.writes)}"
        self.silences[silence_id] = dict(payload, id=silence_id, status={"state": "active"})
        return silence_id

    def expire_silence(self, silence_id):
        self.writes.append(("DELETE", silence_id))
        self.silences[silence_id]["status"] = {"state": "expired"}


def present(**params):
    base = {"state": "present", "matchers": DISK_OPTION, "duration": "1h", "comment": "second"}
    base.update(params)
    return base


def test_check_mode_reports_a_create_without_writing_and_without_an_id():
    client = RecordingClient()
    result = am.run_silence(client, present(), check_mode=True, diff=True, now=NOW)
    assert client.writes == []
    assert result["changed"] is True
    assert result["outcome"] == "created"
    assert result["silence_id"] is None
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["ends_at"] == "2030-01-31T23:00:00.123Z"


def test_a_run_extends_through_the_client_and_reports_a_replacement():
    class ReplacingClient(RecordingClient):
        def create_or_update_silence(self, payload):
            return super().create_or_update_silence(dict(payload, id=None))

    client = ReplacingClient([silence("s1", DISK, ends=NOW + _hours(0.25))])
    result = am.run_silence(client, present(), now=NOW)
    assert result["outcome"] == "extended"
    assert result["previous_silence_id"] == "s1"
    assert result["silence_id"] == "new-1"


def test_invalid_input_fails_before_any_request():
    class NoRequests:
        def __getattr__(self, name):
            raise AssertionError(f"no request expected, got {name}")

    with pytest.raises(am.InputError, match="not a duration"):
        am.run_silence(NoRequests(), present(duration="1 hour"), now=NOW)
    with pytest.raises(am.InputError, match="matchers is empty"):
        am.run_silence(NoRequests(), present(matchers=[]), now=NOW)
    with pytest.raises(am.InputError, match="needs silence_id or a non-empty matchers"):
        am.run_silence(NoRequests(), {"state": "absent", "matchers": []}, now=NOW)


def test_absent_by_matchers_expires_every_live_match_and_reports_their_ids():
    client = RecordingClient(
        [silence("a", DISK), silence("b", DISK, created_by="alice"), silence("c", DISK[:1])]
    )
    result = am.run_silence(
        client, {"state": "absent", "matchers": DISK_OPTION}, check_mode=False, diff=True, now=NOW
    )
    assert client.writes == [("DELETE", "a"), ("DELETE", "b")]
    assert result["expired_silence_ids"] == ["a", "b"]
    assert result["silence_id"] is None
    assert [s["state"] for s in result["diff"]["after"]["silences"]] == ["expired", "expired"]
    again = am.run_silence(client, {"state": "absent", "matchers": DISK_OPTION}, now=NOW)
    assert (again["changed"], again["outcome"], len(client.writes)) == (False, "unchanged", 2)


def test_absent_by_id_of_an_expired_or_unknown_silence_changes_nothing():
    client = RecordingClient([silence("gone", DISK, state="expired")])
    result = am.run_silence(client, {"state": "absent", "silence_id": "gone"}, now=NOW)
    assert (result["changed"], result["silence"]["state"]) == (False, "expired")
    result = am.run_silence(client, {"state": "absent", "silence_id": "unknown"}, now=NOW)
    assert (result["changed"], result["silence"]) == (False, None)
    assert client.writes == []


# --- server error details ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            b'"silence invalid: invalid label matcher 0: invalid label name \\"a b\\""\n',
            'silence invalid: invalid label matcher 0: invalid label name "a b"',
        ),
        (
            b'{"code":612,"message":"matchers in body should have at least 1 items"}',
            "matchers in body should have at least 1 items",
        ),
    ],
)
def test_alertmanager_error_bodies_become_its_own_message(monkeypatch, body, detail):
    url = "http://alertmanager.test/api/v2/silences"

    def refuse(*args, **kwargs):
        raise HTTPError(url, 400, "Bad Request", {}, io.BytesIO(body))

    monkeypatch.setattr(_http, "open_url", refuse)
    client = am.AlertmanagerClient("http://alertmanager.test/", retries=0)
    with pytest.raises(_http.APIError) as caught:
        client.create_or_update_silence({"matchers": []})
    assert str(caught.value) == f"Failed to create silence: {url} answered HTTP 400: {detail}"
    assert caught.value.status == 400


def test_unknown_silence_id_reads_as_none(monkeypatch):
    def not_found(url, *args, **kwargs):
        raise HTTPError(url, 404, "Not Found", {}, io.BytesIO(b""))

    monkeypatch.setattr(_http, "open_url", not_found)
    assert am.AlertmanagerClient("http://am.test", retries=0).get_silence("x/y") is None


def test_unquote_detail_leaves_other_details_alone():
    assert am.unquote_detail('"a \\"b\\""') == 'a "b"'
    assert am.unquote_detail('"broken') == '"broken'
    assert am.unquote_detail(json.dumps(["list"])) == '["list"]'
    assert am.unquote_detail(None) is None


def test_a_silence_starting_now_is_sent_backdated_so_clock_skew_cannot_leave_it_pending():
    client = RecordingClient()
    result = am.run_silence(client, present(), now=NOW)
    [(_, payload)] = client.writes
    assert payload["startsAt"] == "2030-01-31T21:59:00.123Z"
    assert payload["endsAt"] == "2030-01-31T23:00:00.123Z"
    assert result["outcome"] == "created"

    client = RecordingClient()
    am.run_silence(client, present(starts_at="2030-02-01T00:00:00Z"), now=NOW)
    assert client.writes[0][1]["startsAt"] == "2030-02-01T00:00:00.000Z"


def test_a_failed_read_back_after_creating_still_reports_the_change_and_the_id():
    class ForgetfulClient(RecordingClient):
        def get_silence(self, silence_id):
            raise am.APIError("read silence", "http://am/api/v2/silence/x", 503, "overloaded")

    client = ForgetfulClient()
    with pytest.raises(am.APIError) as failure:
        am.run_silence(client, present(), now=NOW)
    assert len(client.writes) == 1
    assert failure.value.result["changed"] is True
    assert failure.value.result["silence_id"] == "new-1"
