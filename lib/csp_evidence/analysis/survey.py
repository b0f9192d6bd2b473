"""Public Attitude Survey values: a borough's proportion for a measure at a quarter end, with errors that name
what is missing."""

from __future__ import annotations

import pandas as pd

EFFECTIVE_SAMPLE = 400  # assumed respondents per borough per rolling 12 months (design size, before weighting)


def parse_quarter(value: str | pd.Timestamp, name: str) -> pd.Timestamp:
    """Parse a quarter-end date argument; the error names the argument."""
    ts = pd.Timestamp(value)
    if not ts.is_quarter_end:
        raise ValueError(
            f"{name} must be a quarter end (31 March, 30 June, 30 September or 31 December); got {value!r}"
        )
    return ts


def borough_rows(pas: pd.DataFrame, borough: str) -> pd.DataFrame:
    rows = pas[pas["borough"] == borough]
    if rows.empty:
        raise ValueError(
            f"no PAS rows for borough {borough!r}; boroughs present: {', '.join(sorted(pas['borough'].unique()))}"
        )
    return rows


def value_at(pas: pd.DataFrame, borough: str, measure: str, quarter: str | pd.Timestamp) -> float:
    """A borough's proportion for one measure at one quarter end (0-1); the error names a missing quarter."""
    q = parse_quarter(quarter, "quarter")
    rows = borough_rows(pas, borough)
    hit = rows[(rows["measure"] == measure) & (rows["quarter_end"] == q)]
    if hit.empty:
        have = rows.loc[rows["measure"] == measure, "quarter_end"]
        span = f"{have.min():%d/%m/%Y} to {have.max():%d/%m/%Y}" if len(have) else "none"
        raise ValueError(f"no PAS value for {borough!r}, {measure!r} at {q:%d/%m/%Y}; quarters present: {span}")
    return float(hit["proportion"].iloc[0])
