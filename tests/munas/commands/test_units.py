import pytest

from munas.commands.units import format_bytes, format_count, parse_bytes, parse_count, parse_error_rate
from munas.errors import UserError


@pytest.mark.parametrize("text, expected", [
    ("64KB", 64_000), ("64kb", 64_000), ("64K", 64_000), ("64 KB", 64_000), ("64000", 64_000), ("64000B", 64_000),
    ("64KiB", 65_536), ("1.5MB", 1_500_000), ("1MiB", 1_048_576), ("2.5e3", 2_500), ("0.5KB", 500),
    ("none", None), ("OFF", None),
])
def test_parse_bytes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("30M", 30_000_000), ("30m", 30_000_000), ("500K", 500_000), ("1.5M", 1_500_000), ("2000000", 2_000_000),
    ("1G", 10**9), ("none", None),
])
def test_parse_count(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["", "KB", "64XB", "-5KB", "0", "1.0001KB", "64 K B x", "../1"])
def test_bad_bytes_are_user_errors_naming_the_option(text):
    with pytest.raises(UserError, match="--pmu"):
        parse_bytes(text, "--pmu")


def test_counts_do_not_take_a_bytes_suffix():
    with pytest.raises(UserError, match="30M"):
        parse_count("30MB", "--macs")


@pytest.mark.parametrize("text, expected", [("0.1", 0.1), ("10%", 0.1), ("1", 1.0), ("0.035", 0.035), ("none", None)])
def test_parse_error_rate(text, expected):
    value = parse_error_rate(text)
    assert value is None if expected is None else value == pytest.approx(expected)


@pytest.mark.parametrize("text", ["0", "1.5", "-0.1", "abc", "150%", "nan"])
def test_bad_error_rates(text):
    with pytest.raises(UserError, match="--error"):
        parse_error_rate(text, "--error")


def test_formatting_uses_the_same_decimal_units():
    assert format_bytes(64_000) == "64.0 KB"
    assert format_bytes(999) == "999 B"
    assert format_count(30_000_000) == "30.0M"
    assert parse_bytes(format_bytes(64_000).replace(" ", "")) == 64_000
    assert format_bytes(None) == "-"
