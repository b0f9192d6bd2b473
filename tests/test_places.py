"""Where crime is in an area (analysis.places): hand-computed values and planted effects in synthetic ward data."""

import numpy as np
import pandas as pd
import pytest

from csp_evidence.analysis import places


def _monthly(extract, series, first, last, counts_by_ward, codes=None):
    """Monthly rows of one extract: each ward's count spread evenly (whole numbers) over the months."""
    months = pd.date_range(first, last, freq="MS")
    rows = []
    for ward, per_month in counts_by_ward.items():
        for month in months:
            rows.append(
                {
                    "series": series,
                    "extract": extract,
                    "month": month,
                    "ward_code": (codes or {}).get(ward, ward),
                    "ward": ward,
                    "count": per_month,
                }
            )
    return pd.DataFrame(rows)


def test_each_year_comes_whole_from_the_latest_extract_covering_it():
    a = _monthly("a", "cris", "2020-09-01", "2022-08-01", {"W1": 10, "W2": 5})  # covers 2021/22 only
    b = _monthly("b", "cris", "2021-09-01", "2023-08-01", {"W1": 20, "W2": 6})  # covers 2022/23 only (2021/22 partly)
    c = _monthly("c", "cris", "2022-04-01", "2023-03-01", {"W1": 30, "W2": 7})  # covers 2022/23: later than b
    years = places.place_years(pd.concat([a, b, c]), ["a", "b", "c"])
    w1 = years[years["place"] == "W1"].set_index("financial_year")
    # 2021/22 all twelve months from a (10 a month), never b's September-March pieced on; 2022/23 from c, the latest
    assert w1.loc["2021/22", "count"] == 120 and w1.loc["2021/22", "extract"] == "a"
    assert w1.loc["2022/23", "count"] == 360 and w1.loc["2022/23", "extract"] == "c"
    assert set(years["financial_year"]) == {"2021/22", "2022/23"}  # 2020/21 and 2023/24 are incomplete everywhere


def test_a_ward_with_no_row_of_a_measure_counts_zero_and_keeps_the_set_of_wards():
    every = _monthly("a", "cris", "2021-04-01", "2023-03-01", {"W1": 5, "W2": 5, "W3": 5})
    some = every[every["ward"] != "W3"]  # the measure's rows: W3 has none
    years = places.place_years(some, ["a"], universe=every)
    assert years.groupby("financial_year")["place"].apply(list).tolist() == [["W1", "W2", "W3"]] * 2
    assert years.loc[years["place"] == "W3", "count"].tolist() == [0, 0]
    assert years["wards_key"].nunique() == 1 and years["wards_key"].iloc[0] == places.wards_key(["W1", "W2", "W3"])


def test_an_extract_outside_the_order_is_refused():
    a = _monthly("a", "cris", "2021-04-01", "2022-03-01", {"W1": 1})
    with pytest.raises(ValueError, match="extract"):
        places.place_years(a, ["b"])


def test_shares_ranks_and_the_small_number_rule():
    years = pd.DataFrame(
        {"financial_year": "2022/23", "place": ["A", "B", "C", "D"], "name": list("ABCD"), "count": [50, 30, 12, 8]}
    )
    out = places.with_shares(years, threshold=10).set_index("place")
    assert out["share"].tolist() == [50.0, 30.0, 12.0, 8.0]  # of 100 offences
    assert out.loc["A", "rank"] == 1 and out.loc["C", "rank"] == 3
    assert out.loc["D", "small"] and pd.isna(out.loc["D", "rank"])  # under 10: never ranked


def test_concentration_by_hand():
    counts = pd.Series(range(1, 11), index=[f"W{i}" for i in range(1, 11)])  # 55 offences in 10 places
    c = places.concentration(counts)
    assert c.top_places == {0.1: 1, 0.2: 2}
    assert c.top_share[0.1] == pytest.approx(100 * 10 / 55)
    assert c.top_share[0.2] == pytest.approx(100 * 19 / 55)
    assert c.gini == pytest.approx(0.3)  # (2 * 385 - 11 * 55) / (10 * 55)
    assert places.concentration(pd.Series([5, 5, 5, 5])).gini == pytest.approx(0.0)
    # 20 wards: the top 10% is 2 wards and the top 20% is 4
    assert places.concentration(pd.Series(np.ones(20))).top_places == {0.1: 2, 0.2: 4}


def test_concentration_curve_runs_from_origin_to_all():
    curve = places.concentration_curve(pd.Series({"A": 1, "B": 3, "C": 6}))
    assert curve.index.tolist() == ["", "C", "B", "A"]
    assert curve["offences_pct"].tolist() == pytest.approx([0, 60, 90, 100])
    assert curve["places_pct"].tolist() == pytest.approx([0, 100 / 3, 200 / 3, 100])


def _years(fy_counts, series="cris", key="k1"):
    rows = []
    for fy, counts in fy_counts.items():
        for place, count in counts.items():
            rows.append(
                {
                    "financial_year": fy,
                    "series": series if isinstance(series, str) else series[fy],
                    "extract": "x",
                    "wards_key": key if isinstance(key, str) else key[fy],
                    "place": place,
                    "name": place,
                    "count": count,
                }
            )
    return pd.DataFrame(rows)


def test_change_only_within_one_series_and_one_set_of_wards():
    counts = {"2021/22": {"A": 100, "B": 100}, "2022/23": {"A": 150, "B": 100}, "2023/24": {"A": 150, "B": 90}}
    same = places.changes(_years(counts), threshold=10).set_index(["financial_year", "place"])
    assert same.loc[("2022/23", "A"), "change"] == 50 and same.loc[("2022/23", "A"), "pct_change"] == 50.0
    assert same["comparable"].all()
    series = {"2021/22": "cris", "2022/23": "cris", "2023/24": "connect"}
    mixed = places.changes(_years(counts, series=series), threshold=10).set_index(["financial_year", "place"])
    assert not mixed.loc[("2023/24", "A"), "comparable"] and pd.isna(mixed.loc[("2023/24", "A"), "change"])
    keys = {"2021/22": "old", "2022/23": "new", "2023/24": "new"}
    redrawn = places.changes(_years(counts, key=keys), threshold=10).set_index(["financial_year", "place"])
    assert not redrawn.loc[("2022/23", "A"), "comparable"] and redrawn.loc[("2023/24", "B"), "comparable"]


def test_small_counts_get_no_test():
    out = places.changes(_years({"2021/22": {"A": 4, "B": 500}, "2022/23": {"A": 12, "B": 480}}), threshold=10)
    a = out.set_index("place").loc["A"]
    assert a["small"] and pd.isna(a["p_value"]) and pd.isna(a["relative_p"])
    assert a["change"] == 8  # the count is shown, not tested


def test_relative_change_matches_the_ratio_of_rate_ratios():
    out = places.changes(_years({"2021/22": {"A": 100, "B": 400}, "2022/23": {"A": 200, "B": 400}}), threshold=10)
    a = out.set_index("place").loc["A"]
    assert a["relative"] == pytest.approx(2.0)  # A doubled, the rest of the area did not move
    # Wald z of log(2) with se sqrt(1/100 + 1/200 + 1/400 + 1/400); two places: no dispersion estimate (factor 1)
    assert a["relative_z"] == pytest.approx(np.log(2) / np.sqrt(1 / 100 + 1 / 200 + 2 / 400))
    assert a["dispersion"] == 1.0


def test_persistence_top_five_every_year_entered_and_left():
    base = {f"W{i:02d}": 100 - i for i in range(1, 11)}  # W01 .. W05 the top five
    later = dict(base, W05=10, W06=200)  # W06 enters the top five, W05 leaves it
    years = _years({"2021/22": base, "2022/23": base, "2023/24": later})
    p = places.persistence(years, threshold=10)
    assert p.years == ["2021/22", "2022/23", "2023/24"]
    assert p.top["2023/24"] == ["W06", "W01", "W02", "W03", "W04"]
    assert p.every_year == ["W01", "W02", "W03", "W04"]
    assert p.entered == ["W06"] and p.left == ["W05"]


def test_persistence_stops_at_a_change_of_wards():
    counts = {"2021/22": {"A": 50, "B": 40}, "2022/23": {"A": 50, "B": 40}, "2023/24": {"A": 50, "B": 40}}
    keys = {"2021/22": "old", "2022/23": "new", "2023/24": "new"}
    assert places.persistence(_years(counts, key=keys), threshold=10).years == ["2022/23", "2023/24"]


def test_funnel_limits_are_exact_poisson():
    low, high = places.funnel_limits(np.array([10.0]), 0.95)
    assert low[0] == pytest.approx(4.795, abs=1e-3) and high[0] == pytest.approx(18.390, abs=1e-3)
    low2, high2 = places.funnel_limits(np.array([10.0]), 0.95, dispersion=4.0)
    assert high2[0] - 10 == pytest.approx(2 * (high[0] - 10)) and low2[0] == 0.0  # widened by sqrt(4), floored at 0


def test_fdr_by_hand():
    found, q = places.fdr([0.01, 0.04, 0.03, 0.005, np.nan])
    assert found.tolist() == [True, True, True, True, False]
    assert q[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02]) and np.isnan(q[4])
    found, _ = places.fdr([0.02, 0.2, 0.3, 0.4])
    assert found.tolist() == [False, False, False, False]  # 0.02 > 0.05 / 4 and no later p under its step: nothing


def test_funnel_finds_a_planted_high_rate_ward_and_no_other():
    rng = np.random.default_rng(7)
    hits, false = 0, 0
    runs = 200
    for _ in range(runs):
        population = pd.Series(rng.integers(8_000, 16_000, 20), index=[f"W{i:02d}" for i in range(20)])
        rate = np.full(20, 0.05) * rng.lognormal(0, 0.05, 20)  # 50 per 1,000, with some spread between wards
        rate[3] *= 2.0  # the planted ward: twice the rate
        counts = pd.Series(rng.poisson(rate * population.to_numpy()), index=population.index)
        out = places.funnel(counts, population, threshold=10)
        listed = set(out.index[out["beyond_chance"] == "above"])
        hits += "W03" in listed
        false += bool(listed - {"W03"} - set(out.index[out["beyond_chance"] == "below"]))
    # the planted ward is found in at least 95% of runs; another ward is listed above the area in at most 5%
    assert hits >= 0.95 * runs
    assert false <= 0.05 * runs


def test_deprivation_is_population_weighted():
    lookup = pd.DataFrame({"lsoa": ["L1", "L2", "L3"], "ward": ["A", "A", "B"]})
    population = pd.DataFrame({"lsoa": ["L1", "L2", "L3"], "population": [1000, 3000, 2000]})
    deciles = pd.DataFrame({"lsoa": ["L1", "L2"], "decile": [1, 5]})  # L3 has no IMD (a redrawn LSOA)
    out = places.place_deprivation(deciles, population, lookup, "lsoa", "ward").set_index("place")
    assert out.loc["A", "mean_decile"] == pytest.approx((1 * 1000 + 5 * 3000) / 4000)
    assert out.loc["A", "most_deprived_pct"] == pytest.approx(25.0)
    assert out.loc["A", "covered_pct"] == 100.0 and out.loc["B", "covered_pct"] == 0.0
    assert pd.isna(out.loc["B", "mean_decile"])


def test_gap_between_ward_sum_and_borough_total():
    gap = places.gap_by_year(pd.Series({"2021/22": 900, "2022/23": 950}), pd.Series({"2021/22": 1000, "2023/24": 5}))
    assert gap.to_dict("records") == [
        {"financial_year": "2021/22", "places": 900.0, "area": 1000.0, "gap": 100.0, "gap_pct": 10.0}
    ]
