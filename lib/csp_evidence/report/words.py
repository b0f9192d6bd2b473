"""Sentences of finding, generated from the numbers (never typed by hand), and safe to put in Markdown."""

from __future__ import annotations

import html
import re

from csp_evidence.core.values import is_missing

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")


def md(text: object) -> str:
    """Text from data made safe for Markdown: one line, HTML escaped, markup characters backslashed, and no
    leading list or heading marker."""
    one_line = " ".join(html.unescape(str(text)).split())
    escaped = _MD_SPECIAL.sub(r"\\\1", one_line).replace("&", "&amp;")
    # '- x' and '+ x' become '\- x'; '1. x' becomes '1\. x' (a backslash before a digit would not escape it)
    return _LINE_START.sub(
        lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit() else "\\" + m.group(2)), escaped
    )


def number(value: float) -> str:
    """A count with thousands separators: 34693 -> '34,693'."""
    return f"{value:,.0f}"


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def pct(value: float, signed: bool = True) -> str:
    """A percentage to one decimal place: 7.43 -> '+7.4%'."""
    if is_missing(value):
        return "n/a"
    return f"{value:+.1f}%" if signed else f"{value:.1f}%"


def p_value(p: float) -> str:
    """p-values as analysts write them: 'p < 0.001' or 'p = 0.034'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def change_sentence(
    what: str, current: int, previous: int, change_pct: float, significant: bool, p: float, year: str, prev_year: str
) -> str:
    """'Theft fell by 12.3% from 9,232 in 2018/19 to 8,100 in 2019/20, a change beyond chance (p < 0.001).'"""
    if current == previous:
        return f"{md(what)} was unchanged at {number(current)} in {year}."
    verb = "rose" if current > previous else "fell"
    verdict = (
        f"a change beyond what chance alone would produce ({p_value(p)})"
        if significant
        else f"a change within what chance alone could produce ({p_value(p)})"
    )
    return (
        f"{md(what)} {verb} by {abs(change_pct):.1f}% from {number(previous)} in {prev_year} "
        f"to {number(current)} in {year}, {verdict}."
    )


def rank_sentence(borough: str, count: int, rank: int, ranked: int, year: str, what: str = "recorded offences") -> str:
    """'In 2019/20 Tower Hamlets recorded 34,693 offences, the 7th highest of the 32 London boroughs.'"""
    position = "the highest" if rank == 1 else f"the {ordinal(rank)} highest"
    return (
        f"In {year} {md(borough)} had {number(count)} {what}, {position} of the {ranked} London boroughs "
        f"policed by the Metropolitan Police."
    )


def change_words(value: float, joiner: str = "since") -> str:
    """'28.4% more than' / '31.4% fewer than' style wording ('up 28.4% since' with joiner='since')."""
    if joiner == "since":
        return f"{'up' if value >= 0 else 'down'} {abs(value):.1f}% since"
    return f"{abs(value):.1f}% {'more' if value >= 0 else 'fewer'} {joiner}"


def variation(significant: bool) -> str:
    """Whether a change is beyond chance, in words a board member reads without a statistics course."""
    return "more than normal year-to-year variation" if significant else "within normal year-to-year variation"


def moved(value: float, what: str = "") -> str:
    """'rose 15.1%' / 'fell 4.6%' / 'was unchanged' ('rose 15.1% to' style wording is the caller's)."""
    if is_missing(value) or round(value, 1) == 0:
        return "was unchanged"
    return f"{'rose' if value > 0 else 'fell'} {abs(value):.1f}%{what}"


# Where an observed count lies against an expected range ('above', 'below' or 'within', as the Covid
# counterfactuals label it), in each form the pages write it: (above, below, within).
INTERVAL_WORDS: dict[str, tuple[str, str, str]] = {
    "side": ("above", "below", "within"),
    "inside": ("above", "below", "inside"),
    "interval": ("above the 95% interval", "below the 95% interval", "within the 95% interval"),
    "moved": ("rose above", "fell below", "stayed within"),
    "level": ("rose above the level", "fell below the level", "stayed within the range"),
    "predicts": (
        "more than the pre-pandemic pattern predicts: outside the 95% interval",
        "fewer than the pre-pandemic pattern predicts: outside the 95% interval",
        "within the range the pre-pandemic pattern predicts",
    ),
    "interval predicts": (
        "above the 95% interval: more than the pre-pandemic pattern predicts",
        "below the 95% interval: fewer than the pre-pandemic pattern predicts",
        "within the 95% interval the pre-pandemic pattern predicts",
    ),
}
INTERVAL_SIDES = ("above", "below", "within")  # the sides, as the Covid counterfactuals name them


def interval_words(outside: str, form: str = "side") -> str:
    """Where an observed count lies against its expected range, in words: interval_words('above', 'moved') ->
    'rose above'. `outside` is 'above', 'below' or 'within'; `form` one of INTERVAL_WORDS. The one place the pages'
    above/below/within wording is written."""
    if outside not in INTERVAL_SIDES:
        raise ValueError(f"outside must be one of {', '.join(INTERVAL_SIDES)}, got {outside!r}")
    try:
        words = INTERVAL_WORDS[form]
    except KeyError:
        raise ValueError(f"no interval wording {form!r}; forms: {', '.join(INTERVAL_WORDS)}") from None
    return words[INTERVAL_SIDES.index(outside)]


def agree(n: int, one: str, many: str) -> str:
    """The word that agrees with a count: agree(1, 'matches', 'match') -> 'matches'."""
    return one if n == 1 else many


def listing(items: list[str], limit: int = 3) -> str:
    """'a', 'a and b', 'a, b and c'; past `limit` items, 'a, b, c and 2 more'. An empty list is an error."""
    if not items:
        raise ValueError("listing needs at least one item")
    shown, rest = items[:limit], len(items) - limit
    if rest > 0:
        return ", ".join(shown) + f" and {rest} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
