"""Reporting periods: financial years (April to March) and the Covid-19 restriction periods in England."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

_FY_PATTERN = re.compile(r"^(\d{4})/(\d{2})$")


def financial_year(month: pd.Timestamp | str) -> str:
    """Return the financial year ('2019/20') that a month falls in; April starts the year."""
    ts = pd.Timestamp(month)
    start = ts.year if ts.month >= 4 else ts.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def financial_years(months: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """Vectorised `financial_year` over month starts; returns a Series of labels like '2019/20'."""
    months = pd.DatetimeIndex(months)
    start = np.asarray(months.year - (months.month < 4).astype(int))
    years, position = np.unique(start, return_inverse=True)  # label each distinct year once, not each row
    labels = np.array([f"{s}/{(s + 1) % 100:02d}" for s in years], dtype=object)[position.reshape(-1)]
    return pd.Series(labels, index=range(len(labels)), dtype="object")


def parse_financial_year(label: str) -> int:
    """Return the starting calendar year of a financial-year label ('2019/20' -> 2019); errors name the label."""
    m = _FY_PATTERN.match(str(label))
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(
            f"financial year {label!r} is not of the form 'YYYY/YY' with consecutive years, e.g. '2019/20'"
        )
    return int(m.group(1))


def financial_year_months(label: str) -> pd.DatetimeIndex:
    """The twelve month starts (April to March) of a financial year label."""
    start = parse_financial_year(label)
    return pd.date_range(f"{start}-04-01", periods=12, freq="MS")


def previous_financial_year(label: str) -> str:
    """The financial year before `label` ('2019/20' -> '2018/19')."""
    start = parse_financial_year(label) - 1
    return f"{start}/{(start + 1) % 100:02d}"


def next_financial_year(label: str) -> str:
    """The financial year after `label` ('2019/20' -> '2020/21')."""
    start = parse_financial_year(label) + 1
    return f"{start}/{(start + 1) % 100:02d}"


@dataclass(frozen=True)
class Period:
    """A named span of whole months, inclusive at both ends."""

    name: str
    start: pd.Timestamp
    end: pd.Timestamp

    def contains(self, month: pd.Timestamp) -> bool:
        return self.start <= pd.Timestamp(month) <= self.end


def _p(name: str, start: str, end: str) -> Period:
    return Period(name, pd.Timestamp(start), pd.Timestamp(end))


# Covid-19 restriction periods in England, by whole month, as used in published studies of pandemic crime
# (first national lockdown from 23 March 2020; second from 5 November 2020; third from 6 January 2021;
# step 4 of the roadmap, the end of most legal restrictions, on 19 July 2021).
COVID_PERIODS: tuple[Period, ...] = (
    _p("First lockdown", "2020-03-01", "2020-06-01"),
    _p("Between lockdowns", "2020-07-01", "2020-10-01"),
    _p("Second and third lockdowns", "2020-11-01", "2021-03-01"),
    _p("Easing of restrictions", "2021-04-01", "2021-07-01"),
    _p("After restrictions", "2021-08-01", "2022-03-01"),
)

# The national lockdowns as exact dates, for shading charts.
LOCKDOWNS: tuple[tuple[str, pd.Timestamp, pd.Timestamp], ...] = (
    ("First lockdown", pd.Timestamp("2020-03-23"), pd.Timestamp("2020-06-15")),
    ("Second lockdown", pd.Timestamp("2020-11-05"), pd.Timestamp("2020-12-02")),
    ("Third lockdown", pd.Timestamp("2021-01-06"), pd.Timestamp("2021-03-29")),
)


def covid_period(month: pd.Timestamp | str) -> str | None:
    """Name of the Covid restriction period a month falls in, or None outside them."""
    for p in COVID_PERIODS:
        if p.contains(pd.Timestamp(month)):
            return p.name
    return None


# --------------------------------------------------------------------------- periods of police.uk areas
# police.uk files do not always cover whole financial years, so a pack outside the MPS boroughs may describe a
# calendar year ('2025') or the 12 months to a month ('12 months to 2025-12') as well as a financial year.
_CALENDAR_YEAR = re.compile(r"^(\d{4})$")
_TWELVE_MONTHS = re.compile(r"^12 months to (\d{4})-(0[1-9]|1[0-2])$")
PERIOD_FORMS = "a financial year '2024/25', a calendar year '2025' or '12 months to 2025-12'"


def period_months(label: str) -> pd.DatetimeIndex:
    """The twelve month starts of a period label: a financial year ('2024/25'), a calendar year ('2025') or the
    12 months to a month ('12 months to 2025-12'); any other label is a ValueError naming the forms."""
    text = str(label).strip()
    if m := _CALENDAR_YEAR.match(text):
        return pd.date_range(f"{m.group(1)}-01-01", periods=12, freq="MS")
    if m := _TWELVE_MONTHS.match(text):
        end = pd.Timestamp(f"{m.group(1)}-{m.group(2)}-01")
        return pd.date_range(end=end, periods=12, freq="MS")
    if _FY_PATTERN.match(text):
        return financial_year_months(text)
    raise ValueError(f"period {label!r} is not {PERIOD_FORMS}")


def previous_period(label: str) -> str:
    """The twelve months before a period, written in the same form ('2025' -> '2024', '12 months to 2025-12' ->
    '12 months to 2024-12', '2024/25' -> '2023/24')."""
    text = str(label).strip()
    if _CALENDAR_YEAR.match(text):
        return str(int(text) - 1)
    if m := _TWELVE_MONTHS.match(text):
        return f"12 months to {int(m.group(1)) - 1}-{m.group(2)}"
    period_months(text)  # a malformed label raises naming the forms
    return previous_financial_year(text)


def period_title(label: str) -> str:
    """A period as a sentence writes it: '2025', '2024/25', 'the 12 months to December 2025'."""
    months = period_months(label)
    if _TWELVE_MONTHS.match(str(label).strip()):
        return f"the 12 months to {months[-1]:%B %Y}"
    return str(label).strip()


LOCKDOWN_BASELINE_YEARS = 3  # the first lockdown month is set against the same month of this many years before
