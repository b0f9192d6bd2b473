import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csp_evidence.analysis.stats.change import (
    compare_counts,
    financial_year_totals,
    rank_of,
    year_on_year,
)


def test_hand_computed_change_and_exact_test():
    c = compare_counts(previous=40, current=60)
    assert (c.change, c.pct_change, c.rate_ratio) == (20, 50.0, 1.5)
    # Given 100 in all, 60 vs 40 under no change is Binomial(100, 1/2): two-sided exact p = 2 * P(X >= 60).
    assert c.p_value == pytest.approx(2 * stats.binom.sf(59, 100, 0.5), rel=1e-9)
    assert c.significant is False  # p = 0.057
    assert c.z_score == pytest.approx(2 * (math.sqrt(60) - math.sqrt(40)))


def test_ten_against_zero_is_significant_and_a_signal():
    c = compare_counts(0, 10)
    assert c.p_value == pytest.approx(2 * 0.5**10)
    assert c.signal and c.significant and math.isnan(c.pct_change)


def test_rate_ratio_interval_contains_estimate_and_matches_clopper_pearson():
    c = compare_counts(200, 250)
    lo, hi = stats.beta.ppf(0.025, 250, 201), stats.beta.ppf(0.975, 251, 200)
    assert c.ratio_low == pytest.approx(lo / (1 - lo)) and c.ratio_high == pytest.approx(hi / (1 - hi))
    assert c.ratio_low < 1.25 < c.ratio_high


def test_z_signal_threshold():
    assert compare_counts(100, 121).z_score == pytest.approx(2.0)
    assert not compare_counts(100, 121).signal
    assert compare_counts(100, 169).signal  # Z = 2 * (13 - 10) = 6


def test_no_change_and_zero_counts():
    assert compare_counts(50, 50).p_value == pytest.approx(1.0)
    assert compare_counts(0, 0).p_value == 1.0


@pytest.mark.parametrize("bad", [-1, 2.5, float("nan")])
def test_bad_counts_are_named(bad):
    with pytest.raises(ValueError, match="previous"):
        compare_counts(bad, 3)


def test_poisson_test_false_positive_rate_is_nominal():
    rng = np.random.default_rng(7)
    prev, cur = rng.poisson(500, 2000), rng.poisson(500, 2000)
    rate = np.mean([compare_counts(p, c).significant for p, c in zip(prev, cur, strict=False)])
    assert rate < 0.065  # exact test is conservative: at most 5% plus simulation noise


def _tidy(months, counts, borough="A"):
    return pd.DataFrame({"borough": borough, "month": pd.to_datetime(months), "count": counts})


def test_financial_year_totals_keep_only_complete_years():
    months = pd.date_range("2018-04-01", "2020-06-01", freq="MS")  # 2018/19, 2019/20 complete; 2020/21 not
    totals = financial_year_totals(_tidy(months, np.arange(len(months))))
    assert list(totals["financial_year"]) == ["2018/19", "2019/20"]
    assert list(totals["count"]) == [sum(range(12)), sum(range(12, 24))]


def test_rank_of_excludes_and_shares_ties():
    values = pd.Series({"A": 10, "B": 30, "C": 30, "Airport": 99})
    assert rank_of(values, "B", exclude=["Airport"]) == (1, 3)
    assert rank_of(values, "C", exclude=["Airport"]) == (1, 3)
    assert rank_of(values, "A", exclude=["Airport"]) == (3, 3)
    with pytest.raises(KeyError, match="Airport"):
        rank_of(values, "Airport", exclude=["Airport"])


def test_year_on_year_adds_change_per_group():
    totals = pd.DataFrame(
        {"borough": ["A", "A", "B", "B"], "financial_year": ["2018/19", "2019/20"] * 2, "count": [100, 110, 50, 25]}
    )
    yoy = year_on_year(totals).set_index("borough")
    assert yoy.loc["A", "change"] == 10 and yoy.loc["B", "pct_change"] == -50.0
    assert len(yoy) == 2


def test_year_on_year_never_compares_across_a_missing_year():
    totals = pd.DataFrame(
        {"borough": ["A"] * 3, "financial_year": ["2017/18", "2019/20", "2020/21"], "count": [100, 300, 330]}
    )
    yoy = year_on_year(totals)
    assert yoy["financial_year"].tolist() == ["2020/21"]  # 2019/20 has no 2018/19 to be compared with
    assert yoy.loc[0, "previous"] == 300 and yoy.loc[0, "pct_change"] == 10.0
