"""Public Attitude Survey values: a borough's proportion for a measure at a quarter end, with errors that name
what is missing; the change between two quarters with its interval; and progress towards a plan's target."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from csp_evidence.analysis.stats.proportions import two_proportion_test, wilson_interval
from csp_evidence.data.plan import confidence_target

EFFECTIVE_SAMPLE = 400  # assumed respondents per borough per rolling 12 months (design size, before weighting)
LAG_QUARTERS = 4  # quarters between non-overlapping rolling 12-month values


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


def successes(p: pd.Series | float, n: int) -> np.ndarray:
    return np.round(np.asarray(p, dtype=float) * n)


def change_interval(p1: float, p2: float, n1: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score 95% interval of p1 - p2 (in proportion units) from the two Wilson intervals."""
    l1, u1 = wilson_interval(successes(p1, n1), n1)
    l2, u2 = wilson_interval(successes(p2, n2), n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


@dataclass(frozen=True)
class TargetProgress:
    """Progress of one measure towards baseline + uplift; proportions 0-1, changes in points."""

    borough: str
    measure: str
    baseline_quarter: pd.Timestamp
    baseline: float
    target: float
    end_quarter: pd.Timestamp
    latest_quarter: pd.Timestamp
    latest: float
    path_value: float  # the straight line from baseline to target, at the latest quarter
    change_pp: float  # latest minus baseline
    change_low_pp: float
    change_high_pp: float
    p_value: float  # NaN when the two quarters' rolling samples overlap (fewer than 4 quarters apart)
    status: str  # 'met', 'on track', 'behind' or 'below baseline'

    def as_dict(self) -> dict:
        d = asdict(self)
        for k in ("baseline_quarter", "end_quarter", "latest_quarter"):
            d[k] = f"{d[k]:%Y-%m-%d}"
        return d


def target_progress(
    pas: pd.DataFrame,
    borough: str,
    measure: str | None = None,
    baseline_quarter: str | pd.Timestamp | None = None,
    end_quarter: str | pd.Timestamp | None = None,
    uplift: float | None = None,
    quarter: str | pd.Timestamp | None = None,
    n: int = EFFECTIVE_SAMPLE,
) -> TargetProgress:
    """Target = the borough's value at `baseline_quarter` + `uplift`; status of the latest (or given) quarter.

    Status: 'met' at or above the target; 'on track' at or above the straight line from the baseline (at
    `baseline_quarter`) to the target (at `end_quarter`); 'below baseline' under the baseline; else 'behind'.
    What is not given comes from the borough's plan (``data.plan.confidence_target``; uplift in points / 100).
    """
    plan_target = confidence_target(borough)
    measure = plan_target.measure if measure is None else measure
    baseline_quarter = plan_target.baseline_quarter if baseline_quarter is None else baseline_quarter
    end_quarter = plan_target.end_quarter if end_quarter is None else end_quarter
    uplift = plan_target.uplift_points / 100 if uplift is None else uplift
    base_q = parse_quarter(baseline_quarter, "baseline_quarter")
    end_q = parse_quarter(end_quarter, "end_quarter")
    if end_q <= base_q:
        raise ValueError(f"end_quarter {end_q:%d/%m/%Y} must be after baseline_quarter {base_q:%d/%m/%Y}")
    baseline = value_at(pas, borough, measure, base_q)
    rows = borough_rows(pas, borough)
    series = rows[rows["measure"] == measure]
    latest_q = series["quarter_end"].max() if quarter is None else parse_quarter(quarter, "quarter")
    latest = value_at(pas, borough, measure, latest_q)
    target = round(baseline + uplift, 10)
    share = min(max((latest_q - base_q) / (end_q - base_q), 0.0), 1.0)
    path = baseline + uplift * share
    lo, hi = change_interval(latest, baseline, n, n)
    quarters_apart = (latest_q.year - base_q.year) * 4 + (latest_q.quarter - base_q.quarter)
    p = (
        float(two_proportion_test(successes(latest, n), n, successes(baseline, n), n))
        if quarters_apart >= LAG_QUARTERS
        else float("nan")
    )
    eps = 1e-9
    status = (
        "met"
        if latest >= target - eps
        else "on track"
        if latest >= path - eps
        else "below baseline"
        if latest < baseline - eps
        else "behind"
    )
    return TargetProgress(
        borough,
        measure,
        base_q,
        baseline,
        target,
        end_q,
        latest_q,
        latest,
        path,
        round(100 * (latest - baseline), 6),
        100 * lo,
        100 * hi,
        p,
        status,
    )
