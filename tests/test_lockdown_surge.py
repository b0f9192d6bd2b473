"""The lockdown surge of a monthly count: a planted surge on a flat synthetic series, recovered by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import binomtest

from csp_evidence.analysis.covid import lockdown_months, lockdown_surge

LOCKDOWN = ["2020-03", "2020-04", "2020-05", "2020-06", "2020-11", "2020-12", "2021-01", "2021-02", "2021-03"]


def _flat(level: int = 1000, start: str = "2019-01-01", end: str = "2022-03-01") -> pd.Series:
    months = pd.date_range(start, end, freq="MS")
    return pd.Series(level, index=months, dtype="int64")


def test_lockdown_months_are_those_the_national_lockdowns_touch():
    assert [f"{m:%Y-%m}" for m in lockdown_months()] == LOCKDOWN


def test_a_planted_surge_is_recovered():
    series = _flat()
    series["2020-04-01"] = 3000  # April 2020: three times April 2019
    series["2020-05-01"] = 2500
    series["2021-01-01"] = 2000
    series["2019-06-01"] = 800  # a quieter June 2019: June 2020 (flat) is then a rise of 25%
    surge = lockdown_surge(series, "2020-03")

    # financial years: 2019/20 has eleven months of 1,000 and June 2019 at 800; 2020/21 has nine of 1,000 and
    # three planted months
    assert (surge.baseline_year, surge.year) == ("2019/20", "2020/21")
    assert surge.year_change.previous == 11 * 1000 + 800 == 11800
    assert surge.year_change.current == 9 * 1000 + 3000 + 2500 + 2000 == 16500
    assert surge.year_change.pct_change == pytest.approx(100 * (16500 - 11800) / 11800)
    exact = binomtest(16500, 16500 + 11800, 0.5).pvalue  # given the total, the current count is Binomial(n, 1/2)
    assert surge.year_change.p_value == pytest.approx(exact, rel=1e-6, abs=1e-300)

    months = surge.months.set_index(surge.months["month"].dt.strftime("%Y-%m"))
    assert list(months.index) == LOCKDOWN
    assert months.loc["2020-04", ["count", "baseline"]].tolist() == [3000, 1000]
    assert months.loc["2020-04", "baseline_month"] == pd.Timestamp("2019-04-01")
    assert months.loc["2020-04", "rate_ratio"] == pytest.approx(3.0)
    assert months.loc["2020-06", "pct_change"] == pytest.approx(25.0)
    assert months.loc["2021-01", "baseline_month"] == pd.Timestamp("2019-01-01")  # the same month of 2019
    assert months.loc["2021-01", "rate_ratio"] == pytest.approx(2.0)
    assert months.loc["2020-11", "pct_change"] == pytest.approx(0.0)
    assert months.loc["2020-04", "period"] == "First lockdown"
    assert months.loc["2021-02", "period"] == "Second and third lockdowns"

    assert surge.lockdown_total == 6 * 1000 + 3000 + 2500 + 2000
    assert surge.lockdown_baseline == 8 * 1000 + 800
    assert surge.lockdown_pct_change == pytest.approx(100 * (13500 - 8800) / 8800)
    assert f"{surge.peak['month']:%Y-%m}" == "2020-04"
    head = surge.headline()
    assert head["peak_month"] == "2020-04" and head["peak_count"] == 3000 and head["peak_baseline"] == 1000
    assert head["count"] == 16500 and head["baseline"] == 11800


def test_no_surge_gives_no_change():
    surge = lockdown_surge(_flat(), "2020-03")
    assert surge.year_change.change == 0 and surge.year_change.p_value == pytest.approx(1.0)
    assert (surge.months["pct_change"] == 0).all()


def test_a_missing_month_is_named_never_zero():
    series = _flat().drop(pd.Timestamp("2020-07-01"))
    with pytest.raises(ValueError, match=r"lacks 1 month\(s\) of 2020/21, first 2020-07"):
        lockdown_surge(series, "2020-03")
    series = _flat(start="2019-04-01")  # no March 2019 to compare March 2020 with
    with pytest.raises(ValueError, match=r"lacks 2019-03, needed to compare the lockdown month 2020-03 with 2019-03"):
        lockdown_surge(series, "2020-03")
