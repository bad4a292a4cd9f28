"""PromQL strings and selectors built from alert label values (module_utils/prometheus.py and
the sre.runbooks.promql_* filters).

``prometheus_unquote`` models how Prometheus reads a double-quoted string: its lexer's rules
(promql/parser/lex.go, lexString and lexEscape) and then Go's unquoting (util/strutil.Unquote).
tests/integration/test_promql_escaping.py checks the same against the real Prometheus.
"""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.sre.runbooks.plugins.filter.promql import FilterModule
from ansible_collections.sre.runbooks.plugins.module_utils.prometheus import (
    PrometheusInputError,
    promql_matchers,
    promql_selector,
    promql_string,
)
from hypothesis import given, settings
from hypothesis import strategies as st

INJECTION = 'x"} or vector(1) or up{job="'
_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
_NUMERIC = {"x": (2, 16), "u": (4, 16), "U": (8, 16)}


class LexError(ValueError):
    pass


def _numeric_escape(literal: str, position: int) -> tuple[bytes, int]:
    """One numeric escape (octal, \\x, \\u, \\U) whose letter or first digit is at ``position``."""
    kind = literal[position]
    digits, base = _NUMERIC.get(kind, (3, 8))
    start = position if kind in "01234567" else position + 1
    text = literal[start : start + digits]
    allowed = "01234567" if base == 8 else "0123456789abcdefABCDEF"
    if len(text) != digits or any(char not in allowed for char in text):
        raise LexError(f"illegal escape at {position}")
    value = int(text, base)
    if kind not in "uU" and value > 255:  # octal and x escapes are one byte
        raise LexError("escape sequence is an invalid Unicode code point")
    if value > 0x10FFFF or 0xD800 <= value < 0xE000:
        raise LexError("escape sequence is an invalid Unicode code point")
    # \x and octal escapes are bytes; \u and \U are code points, UTF-8 encoded.
    encoded = chr(value).encode() if kind in "uU" else bytes([value])
    return encoded, start + digits


def prometheus_unquote(literal: str) -> str:
    """The label value Prometheus reads from a double-quoted PromQL string, or LexError."""
    if not literal.startswith('"'):
        raise LexError("not a double-quoted string")
    out = bytearray()
    position = 1
    while True:
        if position >= len(literal):
            raise LexError("unterminated quoted string")
        char = literal[position]
        if char == '"':
            if position != len(literal) - 1:
                raise LexError("text after the string")
            break
        if char == "\n":
            raise LexError("unterminated quoted string")
        if char == "\ufffd":  # utf8.RuneError: what the lexer sees for invalid UTF-8
            raise LexError("invalid UTF-8 rune")
        if char != "\\":
            out += char.encode()
            position += 1
            continue
        escape = literal[position + 1 : position + 2]
        if escape in _SIMPLE:
            out.append(_SIMPLE[escape])
            position += 2
        elif escape and (escape in _NUMERIC or escape in "01234567"):
            encoded, position = _numeric_escape(literal, position + 1)
            out += encoded
        else:
            raise LexError(f"unknown escape sequence {escape!r}")
    return out.decode("utf-8")  # label values are UTF-8


def test_the_model_reads_what_prometheus_reads():
    assert prometheus_unquote(r'"a\"b\\c\n\x41\101\u00e9\U0001F600"') == 'a"b\\c\nAAé😀'
    for bad in ['"a', '"a\nb"', '"a\ufffd"', r'"\q"', r'"\ud800"', r'"\400"', '"a"b"']:
        with pytest.raises(LexError):
            prometheus_unquote(bad)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("nimify-system", '"nimify-system"'),
        ("", '""'),
        (INJECTION, r'"x\"} or vector(1) or up{job=\""'),
        ("back\\slash", r'"back\\slash"'),
        ("line\nbreak\r\t", r'"line\nbreak\r\t"'),
        ("\x00\x07\x1b\x7f", r'"\x00\a\x1b\x7f"'),
        ("\ufffd", r'"\ufffd"'),
        ("zero\u200bwidth\u2028", r'"zero\u200bwidth\u2028"'),
        ("é ü 日本 😀", '"é ü 日本 😀"'),
        ("`raw` 'single' {{ x }}", "\"`raw` 'single' {{ x }}\""),
        ("\U000e0001", r'"\U000e0001"'),
        (12, '"12"'),
    ],
)
def test_promql_string_escapes_what_the_lexer_would_read_otherwise(value, literal):
    assert promql_string(value) == literal
    assert prometheus_unquote(literal) == str(value)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_utf8_text_reads_back_as_itself(value):
    literal = promql_string(value)
    assert prometheus_unquote(literal) == value
    assert "\n" not in literal
    assert "\ufffd" not in literal


@pytest.mark.parametrize("value", [None, True, ["a"], {"a": "b"}, "lone \udc80 surrogate"])
def test_promql_string_refuses_what_is_not_text(value):
    with pytest.raises(PrometheusInputError):
        promql_string(value)


def test_matchers_and_selectors_keep_the_order_and_escape_every_value():
    labels = {"alertname": "PodRestart", "namespace": "nimify-system", "job": INJECTION}
    expected = (
        r'alertname="PodRestart", namespace="nimify-system", job="x\"} or vector(1) or up{job=\""'
    )
    assert promql_matchers(labels) == expected
    assert promql_selector(labels) == "{" + expected + "}"
    assert promql_selector({"job": "a"}, "up") == 'up{job="a"}'
    assert promql_selector({}, "up") == "up{}"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True), st.text(), max_size=5
    )
)
def test_each_matcher_reads_back_as_its_label_and_value(labels):
    text = promql_matchers(labels)
    read = {}
    rest = text
    for name in labels:
        assert rest.startswith(name + '="')
        literal = promql_string(labels[name])
        assert rest[len(name) + 1 :].startswith(literal)
        read[name] = prometheus_unquote(literal)
        rest = rest[len(name) + 1 + len(literal) :].removeprefix(", ")
    assert rest == ""
    assert read == labels


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"a-b": "x"}, "'a-b' is not a Prometheus label name"),
        ({"$(id)": "x"}, "is not a Prometheus label name"),
        ({"job\n": "x"}, "is not a Prometheus label name"),
        ({"": "x"}, "is not a Prometheus label name"),
        ({1: "x"}, "is not a Prometheus label name"),
        ({"job": None}, "label job: a PromQL string needs text, not NoneType"),
        (["job"], "need a mapping"),
        ("job=x", "need a mapping"),
    ],
)
def test_matchers_refuse_bad_names_and_values(labels, message):
    with pytest.raises(PrometheusInputError, match=message):
        promql_matchers(labels)


def test_selector_refuses_a_bad_metric_name():
    with pytest.raises(PrometheusInputError, match="not a Prometheus metric name"):
        promql_selector({"job": "x"}, 'up{job="a"} or vector(1) or up')


def test_the_filters_are_the_functions_and_fail_as_filters():
    filters = FilterModule().filters()
    assert set(filters) == {"promql_string", "promql_matchers", "promql_selector"}
    assert filters["promql_selector"]({"job": INJECTION}, "up") == promql_selector(
        {"job": INJECTION}, "up"
    )
    assert filters["promql_string"](INJECTION) == promql_string(INJECTION)
    with pytest.raises(AnsibleFilterError, match="promql_matchers: 'a-b' is not a Prometheus"):
        filters["promql_matchers"]({"a-b": "x"})
