"""Sentences about places (wards, LSOAs) inside an area, written from the numbers: concentration, persistence, the
places beyond chance and what the place files cannot place. Key-point sentences carry no method words."""

from __future__ import annotations

from collections.abc import Sequence

from csp_evidence.report import words as f

_NUMBERS = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight", 9: "Nine"}


def _count_word(n: int, capital: bool = True) -> str:
    word = _NUMBERS.get(n, f"{n:,}")
    return word if capital else word.lower()


def names(items: Sequence[str], limit: int = 4) -> str:
    """'A', 'A and B', 'A, B and C', or the first `limit` and 'N others'."""
    items = [str(i) for i in items]
    if len(items) > limit:
        rest = len(items) - limit
        return ", ".join(items[:limit]) + f" and {rest} other{'s' if rest > 1 else ''}"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def concentration_point(top_n: int, wards: int, share: float, year: str, place_word: str = "wards") -> str:
    """'Five of the borough's 20 wards held 38% of its recorded crime in 2025/26.'"""
    return (
        f"{_count_word(top_n)} of the borough's {wards} {place_word} held {share:.0f}% of the recorded crime placed in "
        f"a {place_word[:-1]} in {year}."
    )


def persistence_point(every: Sequence[str], top_n: int, years: Sequence[str], entered: Sequence[str]) -> str:
    """Which places were in the top five in every year of one set of boundaries, and which entered it."""
    top = f"top {_count_word(top_n, capital=False)}"
    if len(years) < 2:
        return f"Only {years[0] if years else 'one year'} is on these ward boundaries, so no ward's place in the {top} can yet be followed."
    span = f"every year from {years[0]} to {years[-1]}"
    if not every:
        text = f"No ward stayed in the {top} in {span}."
    elif len(every) == 1:
        text = f"{every[0]} was in the {top} in {span}."
    else:
        text = f"{_count_word(len(every))} wards were in the {top} in {span}: {names(every)}."
    if entered:
        text += f" {names(entered, 2)} joined it."
    return text


def funnel_point(above: Sequence[str], below: Sequence[str], wards: int, year: str) -> str:
    """The wards whose rate per resident stood above (or below) the borough's beyond chance."""
    if not above and not below:
        return f"No ward's crime rate in {year} stood apart from the borough's by more than chance would explain."
    parts = []
    if above:
        parts.append(f"{names(above)} {'has' if len(above) == 1 else 'have'} a crime rate above the borough's")
    if below:
        parts.append(f"{names(below, 2)} below it")
    return f"In {year}, " + "; ".join(parts) + f", beyond chance across the {wards} wards."


def hotspot_point(found: Sequence[tuple[str, str, float, str]], tests: int, year: str | None) -> str:
    """The wards whose change stood out from the rest of the borough's: (ward, measure, change %, since which year)."""
    if year is None:
        return "The ward files hold no two comparable years yet, so no ward's change can be tested."
    if not found:
        return (
            f"No ward's change in {year} stood out from the rest of the borough's once chance across all "
            f"{tests:,} ward and crime-type comparisons is allowed for."
        )
    items = [f"{measure.lower()} in {ward} ({f.pct(change)} on {since})" for ward, measure, change, since in found[:3]]
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return f"In {year}, {names(items, 3)}{more} changed unlike the rest of the borough, beyond chance."


def gap_point(placed_pct: float, year: str) -> str:
    """The share of the borough's recorded offences the ward files place in a ward."""
    return (
        f"The ward files place {placed_pct:.0f}% of the borough's recorded offences in {year} in a ward; the rest "
        "cannot be mapped."
    )


def deprivation_sentence(rho: float | None, wards: int) -> str:
    """Whether crime rates run with deprivation across the wards (Spearman's rank correlation with the IMD decile)."""
    if rho is None:
        return "Deprivation cannot be set beside the ward rates here (no Indices of Deprivation for these areas)."
    strength = "strongly " if abs(rho) >= 0.6 else "" if abs(rho) >= 0.3 else "only weakly "
    direction = "the more deprived" if rho < 0 else "the less deprived"
    return (
        f"Across the {wards} wards, crime rates run {strength}higher in {direction} wards (Spearman's rank correlation "
        f"of the rate with the ward's average IMD 2019 decile, where 1 is the most deprived tenth of England: "
        f"{rho:+.2f}). Town-centre and night-time-economy wards often have high rates for reasons other than need."
    )
