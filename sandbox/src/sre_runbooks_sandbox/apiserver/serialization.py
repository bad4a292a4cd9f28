"""Objects as a real API server stores and returns them: the JSON encoding of the Go API types.

A real server decodes every request body into the typed Go struct and encodes it again, so what
comes back is not what was sent: fields tagged ``omitempty`` disappear when empty (an EnvVar's
``value: ""``, an empty ``labels`` map, ``args: []``, a zero ``initialDelaySeconds``), pointers
disappear only when null, structs never do (``resources: {}`` stays), and quantities come back in
their canonical form (``0.5`` is ``500m``, ``2048Mi`` is ``2Gi``; requests and limits rounded up
to ``1m``). `stored_form` does the same to a JSON object, driven by ``data/fields.json``, the
JSON type and ``omitempty`` of every field of the served kinds, extracted from the k8s.io/api and
k8s.io/apimachinery sources of the recorded server's release by ``data/regenerate.py``.

Fields the table does not know are kept as they are (a real server drops unknown fields).
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from importlib import resources

# The Go package of each served API group's types; events.k8s.io/v1 events are stored as core
# ones (see api.event_to_core).
_PACKAGES = {
    "": "core",
    "apps": "apps",
    "coordination.k8s.io": "coordination",
    "events.k8s.io": "core",
    "networking.k8s.io": "networking",
    "storage.k8s.io": "storage",
    "autoscaling": "autoscaling",
    "policy": "policy",
}
_FIELDS: dict[str, dict[str, list[str]]] = json.loads(
    resources.files(__package__).joinpath("data/fields.json").read_text(encoding="utf-8")
)

# -- quantities -----------------------------------------------------------------------------------

_QUANTITY = re.compile(r"^([+-]?)([0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([+-]?[0-9]+)|([a-zA-Z]*))$")
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12}
_DECIMAL_SUFFIXES.update({"P": 15, "E": 18})
_BINARY_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
_SUFFIX_OF_EXPONENT = {exponent: suffix for suffix, exponent in _DECIMAL_SUFFIXES.items()}


def canonical_quantity(text: object, *, milli: bool = False) -> str | None:  # noqa: PLR0911  (early answers)
    """The canonical form of a resource.Quantity, or None when it does not parse.

    As resource.Quantity does: the value is rounded up (away from zero) to 1n, or to 1m for
    ResourceList values (SetDefaults_ResourceList); a binary suffix stays binary while the value
    is a whole number of at least 1Ki, otherwise the largest decimal suffix (or exponent, if one
    was written) that leaves a whole mantissa is used.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        return None
    match = _QUANTITY.match(str(text).strip())
    if not match:
        return None
    sign, digits, written_exponent, suffix = match.groups()
    value = Fraction(digits)
    if written_exponent is not None:
        value *= Fraction(10) ** int(written_exponent)
    elif suffix in _BINARY_SUFFIXES[1:]:
        value *= 1024 ** _BINARY_SUFFIXES.index(suffix)
    elif suffix in _DECIMAL_SUFFIXES:
        value *= Fraction(10) ** _DECIMAL_SUFFIXES[suffix]
    else:
        return None
    step = Fraction(1, 1000 if milli else 10**9)
    units = -(-value // step)  # rounded up: a request for some resource gets some
    if units == 0:
        return "0"
    value = units * step
    negative = "-" if sign == "-" else ""
    if suffix in _BINARY_SUFFIXES[1:] and value >= 1024 and value.denominator == 1:
        whole, power = int(value), 0
        while whole % 1024 == 0 and power < len(_BINARY_SUFFIXES) - 1:
            whole //= 1024
            power += 1
        return f"{negative}{whole}{_BINARY_SUFFIXES[power]}"
    mantissa, exponent = int(units), -3 if milli else -9
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    while exponent % 3:
        mantissa *= 10
        exponent -= 1
    if written_exponent is not None:
        return f"{negative}{mantissa}" + (f"e{exponent}" if exponent else "")
    return f"{negative}{mantissa}{_SUFFIX_OF_EXPONENT.get(exponent, f'e{exponent}')}"


# -- objects --------------------------------------------------------------------------------------


def root_type(kind: str, group: str) -> str:
    """The fields.json name of a served kind (e.g. ``apps.Deployment``)."""
    return f"{_PACKAGES.get(group, group)}.{kind}"


def stored_form(type_name: str, obj: dict) -> dict:
    """Re-encode `obj` (in place, and returned) as the Go type `type_name` would be encoded."""
    _struct(obj, type_name)
    return obj


def _struct(value: dict, type_name: str) -> None:
    fields = _FIELDS.get(type_name)
    if fields is None:
        return
    for key in list(value):
        spec = fields.get(key)
        if spec is None:
            continue
        code, flags = spec
        encoded = _value(value[key], code, flags)
        if encoded is _OMIT:
            del value[key]
        else:
            value[key] = encoded


_OMIT = object()


def _value(value: object, code: str, flags: str) -> object:  # noqa: PLR0911  (one case a type)
    pointer, omitempty = "p" in flags, "o" in flags
    if value is None:
        if pointer or (omitempty and code not in {"t", "q", "x"} and "." not in code):
            return _OMIT
        return {} if "." in code else value  # a null struct decodes to its zero value
    if code.startswith("l:") and isinstance(value, list):
        if not value and omitempty:
            return _OMIT
        return [_value(item, code[2:], "") for item in value]
    if code.startswith("m:") and isinstance(value, dict):
        if not value and omitempty:
            return _OMIT
        return {k: _value(item, code[2:], "") for k, item in value.items()}
    if code in {"q", "Q"}:
        canonical = canonical_quantity(value, milli=code == "Q")
        return value if canonical is None else canonical
    if "." in code:
        if isinstance(value, dict):
            _struct(value, code)
        return value
    if pointer or not omitempty:
        return value
    if (
        (code == "s" and value == "")
        or (code in {"i", "f"} and not isinstance(value, bool) and value == 0)
        or (code == "b" and value is False)
    ):
        return _OMIT
    if code == "i" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
