"""Human units for resource bounds: ``64KB``, ``30M``, ``0.1`` or ``10%``.

Decimal prefixes are the default because the μNAS paper's "64KB" is 64,000 bytes
(spec §6.2 bounds: PMU 64,000 B). Binary prefixes are accepted when spelled as such
(``64KiB`` = 65,536 B). ``none`` (or ``off``) drops a bound, so that objective is ignored.
Parsing uses exact decimals, so ``1.5KB`` is exactly 1,500 and never 1499.9999.
"""

from __future__ import annotations

import re
from decimal import Decimal, DecimalException, InvalidOperation

from munas.errors import UserError
from munas.search.fitness import Bounds

_DECIMAL = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}
_BINARY = {"KI": 2**10, "MI": 2**20, "GI": 2**30}
_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMG]I?)?\s*(B)?\s*$", re.IGNORECASE)
_NO_BOUND = {"none", "off", "no"}
MAX_WHOLE = 10**15
"""The largest byte or MAC bound (1 PB, 10¹⁵ MACs): far beyond any device, and small enough
that every computation with it stays exact in floating point."""


class UnitError(UserError, ValueError):
    """A bound that cannot be read; the message shows the accepted spellings."""


def _scaled(text: str, what: str, allow_bytes_suffix: bool) -> Decimal:
    match = _PATTERN.match(text)
    if not match or (match.group(3) and not allow_bytes_suffix):
        example = "64KB, 65536, 64KiB or 1.5MB" if allow_bytes_suffix else "30M, 500K or 2000000"
        raise UnitError(f"{what}: cannot read {text!r}; write a number with an optional unit, e.g. {example}, or none")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise UnitError(f"{what}: {text!r} is not a number") from None
    prefix = (match.group(2) or "").upper()
    factor = _BINARY.get(prefix) or _DECIMAL[prefix]
    if number.adjusted() > 30:  # also keeps the product below Decimal's exponent limit
        raise UnitError(f"{what}: {text!r} is too large (at most {MAX_WHOLE:.0e})")
    return number * factor


def _integer(value: Decimal, text: str, what: str) -> int:
    if value != value.to_integral_value():
        raise UnitError(f"{what}: {text!r} is not a whole number")
    if value <= 0:
        raise UnitError(f"{what}: must be positive, got {text!r}")
    if value > MAX_WHOLE:
        raise UnitError(f"{what}: {text!r} is too large (at most {MAX_WHOLE:.0e})")
    return int(value)


def _is_no_bound(text: str) -> bool:
    return text.strip().lower() in _NO_BOUND


def _parse_whole(text: str | int, what: str, allow_bytes_suffix: bool) -> int | None:
    if isinstance(text, int):
        return _integer(Decimal(text), str(text), what)
    if _is_no_bound(text):
        return None
    return _integer(_scaled(text, what, allow_bytes_suffix=allow_bytes_suffix), text, what)


def parse_bytes(text: str | int, what: str = "bound") -> int | None:
    """Bytes from ``64KB`` (64,000), ``64KiB`` (65,536), ``64000``, ``1.5MB``; None for ``none``."""
    return _parse_whole(text, what, allow_bytes_suffix=True)


def parse_count(text: str | int, what: str = "bound") -> int | None:
    """A count such as MACs from ``30M``, ``500K``, ``2000000``; None for ``none``."""
    return _parse_whole(text, what, allow_bytes_suffix=False)


def parse_error_rate(text: str | float, what: str = "error bound") -> float | None:
    """An error rate in (0, 1] from ``0.1`` or ``10%``; None for ``none``."""
    if isinstance(text, (int, float)):
        value = Decimal(str(text))
        shown = str(text)
    else:
        if _is_no_bound(text):
            return None
        shown = text
        stripped = text.strip()
        percent = stripped.endswith("%")
        try:
            value = Decimal(stripped.rstrip("%").strip())
            if percent:
                value /= 100
        except DecimalException:
            raise UnitError(f"{what}: cannot read {text!r}; write a rate such as 0.1 or 10%, or none") from None
    if not value.is_finite() or not 0 < value <= 1:
        raise UnitError(f"{what}: must be an error rate in (0, 1] such as 0.1 or 10%, got {shown!r}")
    return float(value)


def format_bytes(value: int | float | None) -> str:
    """``64,000`` → ``64.0 KB`` (decimal, matching the parser); ``-`` for None."""
    if value is None:
        return "-"
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if abs(value) >= factor:
            return f"{value / factor:.1f} {unit}"
    return f"{int(value)} B"


def format_count(value: int | float | None) -> str:
    """``30,000,000`` → ``30.0M``; ``-`` for None."""
    if value is None:
        return "-"
    for unit, factor in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(value) >= factor:
            return f"{value / factor:.1f}{unit}"
    return f"{int(value)}"


def describe_bounds(bounds: Bounds) -> str:
    """``error ≤ 0.1, PMU ≤ 64.0 KB, size ≤ 64.0 KB, MACs ≤ 30.0M`` (``-`` for an objective without a bound)."""
    error, pmu, size, macs = bounds.as_tuple()
    return (f"error ≤ {error if error is not None else '-'}, PMU ≤ {format_bytes(pmu)}, "
            f"size ≤ {format_bytes(size)}, MACs ≤ {format_count(macs)}")
