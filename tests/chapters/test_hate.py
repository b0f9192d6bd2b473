"""The hate crime chapter: strands by year on a synthetic table with hand-computed values, the small-number rule,
years past the data, a planted summer 2020 rise recovered, and the plan's figures in words. Then the real file."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from csp_evidence.analysis.stats.change import compare_counts
from csp_evidence.chapters import hate
from csp_evidence.data.readers.mps_hate_special import AVIATION_SECURITY

STRAND_ROWS = {m.name: m.categories[0] for m in hate.STRANDS}
MONTHS = pd.date_range("2014-04-01", "2021-05-01", freq="MS")


def _synthetic(boroughs: list[str], per_month: dict[tuple[str, str], object], default: int = 5) -> pd.DataFrame:
    """A tidy hate-file table: every borough (and the airports unit) with every strand in every month.

    `per_month[(borough, strand name)]` is a constant count a month or a function of the month index."""
    frames = []
    for borough in [*boroughs, AVIATION_SECURITY]:
        for name, minor in STRAND_ROWS.items():
            spec = per_month.get((borough, name), default)
            counts = spec(MONTHS) if callable(spec) else np.full(len(MONTHS), spec)
            frames.append(
                pd.DataFrame(
                    {
                        "month": MONTHS,
                        "borough": borough,
                        "major_category": "Hate",
                        "minor_category": minor,
                        "count": np.asarray(counts, dtype="int64"),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _faith(months: pd.DatetimeIndex) -> np.ndarray:
    """Tower Hamlets faith hate crime: 10 a month in 2018/19, 8 a month from April 2019."""
    return np.where(months >= "2019-04-01", 8, 10)


@pytest.fixture(scope="module")
def boroughs(fetched):
    from csp_evidence.data import geo

    return geo.mps_boroughs()


@pytest.fixture(scope="module")
def synthetic(boroughs):
    return _synthetic(
        boroughs,
        {
            ("Tower Hamlets", "Faith hate crime"): _faith,
            ("Tower Hamlets", "Transgender hate crime"): 0,
            ("Tower Hamlets", "Antisemitic hate crime"): 0,
            ("Tower Hamlets", "Islamophobic hate crime"): 6,
            ("Sutton", "Islamophobic hate crime"): 0,
            ("Sutton", "Antisemitic hate crime"): 0,
        },
    )


@pytest.mark.realdata
def test_strands_by_year_by_hand(synthetic):
    from csp_evidence.data import geo

    table = hate.strands_by_year(synthetic, "Tower Hamlets", ["2019/20", "2021/22"], threshold=10)
    faith = table[(table["strand"] == "Faith hate crime") & (table["financial_year"] == "2019/20")].iloc[0]
    assert (faith["previous"], faith["count"], faith["change"]) == (120, 96, -24)
    assert faith["pct_change"] == pytest.approx(-20.0)
    assert faith["p_value"] == pytest.approx(compare_counts(120, 96).p_value)
    pop = geo.population_for_financial_year("2019/20").set_index("borough")["population"]
    assert faith["rate"] == pytest.approx(1000 * 96 / pop["Tower Hamlets"])
    # London: the 32 boroughs (31 at 5 a month), the airports unit left out
    assert faith["london_rate"] == pytest.approx(1000 * (96 + 31 * 60) / pop.sum())
    rates = pd.Series(60, index=pop.index, dtype=float).where(pop.index != "Tower Hamlets", 96) / pop
    assert faith["rate_rank"] == 1 + int((rates > rates["Tower Hamlets"]).sum())
    assert faith["rank"] == 1 and faith["ranked"] == 32 and not faith["small"]


@pytest.mark.realdata
def test_small_strands_are_counts_only_and_years_past_the_data_are_marked(synthetic):
    table = hate.strands_by_year(synthetic, "Tower Hamlets", ["2019/20", "2021/22"], threshold=10)
    trans = table[(table["strand"] == "Transgender hate crime") & (table["financial_year"] == "2019/20")].iloc[0]
    assert trans["small"] and trans["count"] == 0 and trans["previous"] == 0
    assert all(pd.isna(trans[c]) for c in ("pct_change", "p_value", "rate", "rate_rank", "rank", "signal"))
    past = table[table["financial_year"] == "2021/22"]
    assert len(past) == len(hate.STRANDS) and past["count"].isna().all() and past["previous"].isna().all()
    assert set(past["status"]) == {"past the data (the file ends May 2021)"}
    text = hate.strand_findings(table, "Tower Hamlets", "2019/20", 10)
    assert "**Transgender hate crime**: 0 in 2019/20 against 0 in 2018/19. Fewer than 10 offences" in text
    assert "**Faith hate crime**: 96 in 2019/20 against 120 in 2018/19 (-20.0%" in text
    assert "never added up" in text
    assert "Transgender hate crime" not in hate.london_index(table, "2019/20").index


@pytest.mark.realdata
def test_strand_year_falls_back_to_the_latest_year_held(synthetic):
    assert hate.strand_year(synthetic, "2019/20") == ("2019/20", "")
    year, note = hate.strand_year(synthetic, "2022/23")
    assert year == "2020/21" and "2022/23 lies outside this file" in note and "May 2021" in note


@pytest.mark.realdata
def test_monthly_chart_leaves_out_small_strands_and_falls_back_to_london(synthetic):
    table = hate.strands_by_year(synthetic, "Tower Hamlets", ["2019/20"], threshold=10)
    frame, area = hate.monthly_faith_frame(synthetic, "Tower Hamlets", table, "2019/20")
    assert area == "Tower Hamlets" and list(frame.columns) == ["Islamophobic"]  # antisemitic: 0 a year, small
    assert (frame["Islamophobic"] == 6).all() and frame.index.min() == pd.Timestamp("2017-04-01")
    sutton = hate.strands_by_year(synthetic, "Sutton", ["2019/20"], threshold=10)
    frame, area = hate.monthly_faith_frame(synthetic, "Sutton", sutton, "2019/20")
    assert area == "London" and list(frame.columns) == ["Islamophobic", "Antisemitic"]
    assert frame["Antisemitic"].iloc[0] == 30 * 5  # 30 boroughs at 5 a month; the airports unit left out
    assert "London" in hate.monthly_title(sutton, area, "Sutton")


@pytest.mark.realdata
def test_planted_summer_2020_rise_is_recovered(boroughs):
    rng = np.random.default_rng(11)
    season = 1 + 0.15 * np.sin(2 * np.pi * (MONTHS.month - 1) / 12)
    planted = np.where((MONTHS >= "2020-06-01") & (MONTHS <= "2020-08-01"), 1.8, 1.0)
    racist = rng.poisson(80 * season * planted)
    table = _synthetic(boroughs, {("Hackney", "Racist and religious hate crime"): lambda m: racist})
    effect, fit, summer = hate.racist_covid(table, "Hackney", "2020-03")
    summer_months = (MONTHS >= "2020-06-01") & (MONTHS <= "2020-08-01")
    assert summer["observed"] == racist[summer_months].sum()
    assert summer["outside"] == "above" and 1.5 < summer["observed"] / summer["expected"] < 2.2
    before = [racist[(MONTHS >= f"{y}-06-01") & (MONTHS <= f"{y}-08-01")].sum() for y in (2017, 2018, 2019)]
    assert summer["same_months_2017_2019"] == pytest.approx(np.mean(before))
    text = hate.summer_sentence(effect, fit, summer, "Hackney")
    assert "above the 95% interval" in text and "Home Office" in text
    assert hate.summer_title(summer, "Hackney").endswith("rose above the expected range in summer 2020")
    figures = hate.covid_figures(effect, summer)
    assert figures["summer_2020"]["outside"] == "above" and figures["first_pandemic_year"]["year"] == "2020/21"


def test_plan_sentences_by_hand():
    row = {
        "figure": "Change in faith hate crime on the previous year",
        "plan_value": -20.0,
        "plan_section": "Achievements",
        "recomputed": -21.17,
        "period": "2019/20 on 2018/19",
        "verdict": "within revision",
        "note": "108 offences in 2019/20 against 137 in 2018/19.",
    }
    text = hate.plan_sentences([row, {**row, "plan_value": math.nan}])
    assert text.count("\n") == 0  # the row without a plan value is left out
    assert "reports a fall of 20%. The data give -21.2% over 2019/20 on 2018/19: **within revision**" in text


# --------------------------------------------------------------------------- the real file


@pytest.mark.realdata
def test_tower_hamlets_strands_on_the_real_file(fetched):
    from csp_evidence.data import datasets

    special = datasets.hate_special_crime()
    table = hate.strands_by_year(special, "Tower Hamlets", ["2018/19", "2019/20"], 10).set_index(
        ["strand", "financial_year"]
    )
    faith = table.loc[("Faith hate crime", "2019/20")]
    assert (faith["previous"], faith["count"]) == (137, 108) and faith["pct_change"] == pytest.approx(-21.17, abs=0.01)
    homophobic = table.loc[("Homophobic hate crime", "2019/20")]
    assert (homophobic["previous"], homophobic["count"]) == (110, 145)
    assert homophobic["pct_change"] == pytest.approx(31.82, abs=0.01)
    assert table.loc[("Transgender hate crime", "2019/20"), "small"]  # 6 and 9: counts only
    assert table.loc[("Racist and religious hate crime", "2019/20"), "count"] == 767
