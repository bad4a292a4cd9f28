"""The sre.runbooks.percent, duration, bytes, cpu and quantity filters (plugins/filter/human.py)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.sre.runbooks.plugins.filter.human import FilterModule

FILTERS = FilterModule().filters()


def test_every_filter_is_there_under_its_name():
    assert sorted(FILTERS) == ["bytes", "cpu", "duration", "percent", "quantity"]


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("percent", 0.5000000358500987, "50%"),
        ("percent", "0.9995", "99.95%"),
        ("duration", 0.2425000267184538, "243 ms"),
        ("duration", 150, "2.5 min"),
        ("bytes", "943718Ki", "922 MiB"),
        ("bytes", 1.5e9, "1.4 GiB"),
        ("cpu", "250000000n", "250m"),
        ("cpu", 0.3, "300m"),
        ("percent", None, "no data"),
        ("duration", "NaN", "NaN"),
    ],
)
def test_filters_write_values_with_their_unit(name, value, text):
    assert FILTERS[name](value) == text


def test_percent_takes_the_number_of_digits():
    assert FILTERS["percent"](0.123456, 5) == "12.346%"


def test_quantity_reads_kubernetes_quantities_so_rules_compare_sizes():
    quantity = FILTERS["quantity"]
    assert quantity("2Gi") == 2 * 1024**3
    assert quantity("250000000n") == 0.25
    assert quantity("2Gi") > quantity("2000Mi")
    with pytest.raises(AnsibleFilterError, match=r"quantity: invalid quantity '2 GB'"):
        quantity("2 GB")
    with pytest.raises(AnsibleFilterError, match="quantity: invalid quantity None"):
        quantity(None)
