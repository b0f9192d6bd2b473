"""Did the plan work? Each measure over a CSP plan's years, against London, with plain-word verdicts.

For a recorded-crime measure: the borough's and London's counts in each financial year from the pre-pandemic year to
the year after the plan, the change from the plan's baseline year (the year before its first) to its last year
with the exact Poisson test of the rate ratio (``stats.change.compare_counts``), and whether the borough's rate ratio
differs from the rest of London's. That last test is the interaction term of a Poisson log-linear model of the four
counts (borough and rest of London, baseline and end year); with four cells the model is saturated, its estimate is
the ratio of the two rate ratios and its Wald standard error sqrt(1/b0 + 1/b1 + 1/r0 + 1/r1), so it is computed in
closed form here (the tests check it against statsmodels' GLM). The rest of London (the 31 other boroughs) is the
comparison, so the borough is not compared with itself; London's own change (the 32 boroughs) is shown beside it.
Counts are treated as Poisson, and police counts vary more than that: the methods page says so.

For a survey measure (the Public Attitude Survey, higher is better): the change in the proportion agreeing, the same
for London, and the difference between the two changes (a z-test on the difference of differences, assuming an
effective sample per borough as chapter 5 does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from csp_evidence.analysis.covid import first_pandemic_year
from csp_evidence.analysis.priorities import Measure, measure_rows
from csp_evidence.analysis.stats.change import compare_counts, financial_year_totals, relative_change
from csp_evidence.analysis.stats.proportions import two_proportion_test
from csp_evidence.analysis.summaries import complete_financial_years
from csp_evidence.core.periods import next_financial_year, previous_financial_year
from csp_evidence.data import geo

IMPROVED, WORSENED, NO_CLEAR = "improved", "worsened", "no clear change"
NOT_TESTED = "not tested"
NOT_JUDGED = "not judged"  # a measure found mostly by police activity (``Measure.police_found``)


@dataclass(frozen=True)
class PlanYears:
    """The financial years of a plan-period comparison: the year before the pandemic, the plan's baseline (the year
    before its first), the plan's own years, and the year after its last."""

    pre_pandemic: str
    baseline: str
    plan: tuple[str, ...]
    after: str

    @property
    def all(self) -> tuple[str, ...]:
        """Every year shown, in order, each once."""
        return tuple(dict.fromkeys((self.pre_pandemic, self.baseline, *self.plan, self.after)))

    @property
    def end(self) -> str:
        return self.plan[-1]


def plan_years(plan: Sequence[str], covid_start: str) -> PlanYears:
    """The comparison years of a plan running over `plan` (consecutive financial years), given the pandemic's start."""
    years = list(plan)
    if not years:
        raise ValueError("a plan needs at least one financial year")
    for year, following in zip(years, years[1:], strict=False):
        if next_financial_year(year) != following:
            raise ValueError(f"plan years must be consecutive financial years; {year} is followed by {following}")
    return PlanYears(
        pre_pandemic=previous_financial_year(first_pandemic_year(covid_start)),
        baseline=previous_financial_year(years[0]),
        plan=tuple(years),
        after=next_financial_year(years[-1]),
    )


def verdict(direction: float, significant: bool, higher_is_better: bool = False) -> str:
    """'improved', 'worsened' or 'no clear change' for a change (or a difference from London's change) whose sign
    is `direction` (negative: fell, or fell further than London): crime falling is an improvement, a survey measure
    rising is one."""
    if not significant or direction == 0 or not np.isfinite(direction):
        return NO_CLEAR
    better = direction > 0 if higher_is_better else direction < 0
    return IMPROVED if better else WORSENED


def area_year_counts(crime: pd.DataFrame, measure: Measure, borough: str, years: Sequence[str]) -> pd.DataFrame:
    """The measure's count in the borough, London (the 32 boroughs; not the airports or offences placed in no
    borough) and the rest of London, for each of `years` the table holds whole (others are left out).

    Indexed by financial_year; columns borough, london, rest.
    """
    borough = geo.check_borough(borough)
    totals = financial_year_totals(measure_rows(crime, measure), by=("borough",))
    held = [y for y in years if y in complete_financial_years(crime)]
    boroughs = geo.mps_boroughs()
    table = (
        totals[totals["borough"].isin(boroughs)]
        .pivot_table(index="financial_year", columns="borough", values="count", aggfunc="sum", fill_value=0)
        .reindex(index=held, columns=boroughs, fill_value=0)
    )
    out = pd.DataFrame(
        {"borough": table[borough], "london": table.sum(axis=1)}, index=pd.Index(held, name="financial_year")
    )
    out["rest"] = out["london"] - out["borough"]
    return out.astype("int64")


def count_comparison(counts: pd.DataFrame, start: str, end: str, prefix: str = "") -> dict:
    """From `area_year_counts`: the borough's and London's change from `start` to `end` with their exact Poisson
    tests, and the borough's against the rest of London's (`relative_change`), with verdicts (keys `prefix`-ed).

    Keys: start, end, count_start, count_end, pct_change, p_value, significant, london_start, london_end,
    london_pct_change, london_p_value, london_significant, ratio_of_ratios, rel_low, rel_high, rel_p_value,
    rel_significant, own_verdict, verdict (relative to London).
    """
    b, r, london = (
        counts.loc[[start, end], "borough"],
        counts.loc[[start, end], "rest"],
        counts.loc[[start, end], "london"],
    )
    own = compare_counts(int(b.iloc[0]), int(b.iloc[1]))
    whole = compare_counts(int(london.iloc[0]), int(london.iloc[1]))
    rel = relative_change(int(b.iloc[0]), int(b.iloc[1]), int(r.iloc[0]), int(r.iloc[1]))
    out = {
        "start": start,
        "end": end,
        "count_start": own.previous,
        "count_end": own.current,
        "pct_change": own.pct_change,
        "p_value": own.p_value,
        "significant": own.significant,
        "london_start": whole.previous,
        "london_end": whole.current,
        "london_pct_change": whole.pct_change,
        "london_p_value": whole.p_value,
        "london_significant": whole.significant,
        "ratio_of_ratios": rel.ratio_of_ratios if rel else np.nan,
        "rel_low": rel.low if rel else np.nan,
        "rel_high": rel.high if rel else np.nan,
        "rel_p_value": rel.p_value if rel else np.nan,
        "rel_significant": bool(rel.significant) if rel else False,
        "own_verdict": verdict(own.change, own.significant),
        "verdict": verdict(math.log(rel.ratio_of_ratios), rel.significant) if rel else NOT_TESTED,
    }
    return {f"{prefix}{k}": v for k, v in out.items()}


def measure_table(
    crime: pd.DataFrame,
    borough: str,
    measures: Sequence[tuple[str, Measure]],
    years: PlanYears,
    threshold: int = 0,
) -> pd.DataFrame:
    """One row per (priority, measure): the borough's and London's count in every year of `years` the table holds,
    the change over the plan (baseline to the last plan year held) and since the pre-pandemic year, each against
    London (`count_comparison`, keys prefixed 'plan_' and 'pre_').

    Columns: priority, measure, small (a safeguarding measure under `threshold` in a year compared: its changes are
    not tested; a measure found mostly by police activity is tested but not judged better or worse), end (the last plan year held), one column per year held (the borough's count) and 'London <year>',
    then the comparisons. The end year is the plan's last when held, else the last plan year the table holds whole.
    """
    held = [y for y in years.all if y in complete_financial_years(crime)]
    plan_held = [y for y in years.plan if y in held]
    if years.baseline not in held or not plan_held:
        raise ValueError(
            f"the data ({crime['month'].min():%Y-%m} to {crime['month'].max():%Y-%m}) do not hold the plan's baseline "
            f"{years.baseline} and at least one plan year whole"
        )
    end = plan_held[-1]
    rows = []
    for priority, measure in measures:
        counts = area_year_counts(crime, measure, borough, held)
        compared = [years.baseline, end] + ([years.pre_pandemic] if years.pre_pandemic in held else [])
        small = bool(
            measure.counts_only or (measure.safeguarding and counts.loc[compared, "borough"].min() < threshold)
        )
        row: dict = {"priority": priority, "measure": measure.name, "small": small, "end": end}
        row |= {y: counts.at[y, "borough"] for y in held}
        row |= {f"London {y}": counts.at[y, "london"] for y in held}
        row |= count_comparison(counts, years.baseline, end, "plan_")
        if years.pre_pandemic in held:
            row |= count_comparison(counts, years.pre_pandemic, end, "pre_")
        if small or measure.police_found:
            for prefix in ("plan_", "pre_"):
                for key in ("own_verdict", "verdict"):
                    if f"{prefix}{key}" in row:
                        row[f"{prefix}{key}"] = NOT_TESTED if small else NOT_JUDGED
        rows.append(row)
    return pd.DataFrame(rows)


def priority_verdict(verdicts: Sequence[str]) -> str:
    """One verdict for a priority from its measures' verdicts relative to London: 'improved' when some improved and
    none worsened, 'worsened' when some worsened and none improved, 'mixed' when both, else 'no clear change'
    (measures not tested, or not judged, are left out; 'not tested' when none is left)."""
    tested = [v for v in verdicts if v not in (NOT_TESTED, NOT_JUDGED)]
    if not tested:
        return NOT_TESTED
    improved, worsened = tested.count(IMPROVED), tested.count(WORSENED)
    if improved and worsened:
        return "mixed"
    return IMPROVED if improved else WORSENED if worsened else NO_CLEAR


def priority_table(table: pd.DataFrame, prefix: str = "plan_") -> pd.DataFrame:
    """One row per priority: how many measures improved, worsened, showed no clear change or were not tested
    relative to London, and the priority's verdict (`priority_verdict`), in the order the priorities first appear."""
    rows = []
    for priority, group in table.groupby("priority", sort=False):
        verdicts = group[f"{prefix}verdict"].tolist()
        rows.append(
            {
                "priority": priority,
                "measures": len(verdicts),
                IMPROVED: verdicts.count(IMPROVED),
                WORSENED: verdicts.count(WORSENED),
                NO_CLEAR: verdicts.count(NO_CLEAR),
                NOT_TESTED: verdicts.count(NOT_TESTED),
                NOT_JUDGED: verdicts.count(NOT_JUDGED),
                "verdict": priority_verdict(verdicts),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- survey measures (higher is better)


def survey_change(b0: float, b1: float, l0: float, l1: float, n: int, london_n: int, alpha: float = 0.05) -> dict:
    """A survey proportion's change from b0 to b1 in the borough and l0 to l1 in London (proportions 0-1, samples of
    `n` and `london_n`), with the borough's test (pooled two-proportion z-test), London's, and the difference of the
    two changes (z-test with the four variances summed).

    Keys: change_pp, p_value, significant, london_change_pp, london_p_value, gap_change_pp (borough's change minus
    London's, points), rel_p_value, rel_significant, own_verdict, verdict (relative to London).
    """
    for name, value in (("b0", b0), ("b1", b1), ("l0", l0), ("l1", l1)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be a proportion from 0 to 1, got {value!r}")
    p_b = float(two_proportion_test(round(b1 * n), n, round(b0 * n), n))
    p_l = float(two_proportion_test(round(l1 * london_n), london_n, round(l0 * london_n), london_n))
    diff = (b1 - b0) - (l1 - l0)
    se = math.sqrt(b0 * (1 - b0) / n + b1 * (1 - b1) / n + l0 * (1 - l0) / london_n + l1 * (1 - l1) / london_n)
    p_rel = float(2 * stats.norm.sf(abs(diff / se))) if se > 0 else 1.0
    return {
        "change_pp": 100 * (b1 - b0),
        "p_value": p_b,
        "significant": p_b < alpha,
        "london_change_pp": 100 * (l1 - l0),
        "london_p_value": p_l,
        "gap_change_pp": 100 * diff,
        "rel_p_value": p_rel,
        "rel_significant": p_rel < alpha,
        "own_verdict": verdict(b1 - b0, p_b < alpha, higher_is_better=True),
        "verdict": verdict(diff, p_rel < alpha, higher_is_better=True),
    }
