"""The chapter "Where: areas of focus" (chapters.where) on synthetic ward data with planted effects, and on the real
ward files for Tower Hamlets and a borough whose wards were redrawn in May 2022."""

import numpy as np
import pandas as pd
import pytest

from csp_evidence.analysis.priorities import NEIGHBOURHOOD, TOTAL
from csp_evidence.chapters import where

THEFT = next(m for m in NEIGHBOURHOOD if m.name == "Theft")
BURGLARY = next(m for m in NEIGHBOURHOOD if m.name == "Burglary")
MEASURES = (TOTAL, THEFT, BURGLARY)
WARDS = [f"E0500{i:04d}" for i in range(1, 21)]
HOT = WARDS[6]


def _borough(rng, years=3, hot_growth=2.0, noise=0.05, codes=WARDS, extract="x", first="2022-04-01"):
    """Monthly ward rows of one borough: 20 wards, theft ~300 and burglary ~150 a ward a year. Planted: the hotspot
    ward's theft grows to `hot_growth` times its level over the years (evenly on the log scale); every ward-year-crime
    rate carries log-normal noise of sd `noise` (more spread than Poisson counts), and monthly counts are Poisson."""
    months = pd.date_range(first, periods=12 * years, freq="MS")
    base = {"Theft": rng.uniform(200, 400, len(codes)), "Burglary": rng.uniform(100, 200, len(codes))}
    rows = []
    for y in range(years):
        in_year = months[12 * y : 12 * (y + 1)]
        for category, level in base.items():
            rate = level * rng.lognormal(0, noise, len(codes))
            if category == "Theft":
                rate[codes.index(HOT) if HOT in codes else 0] *= hot_growth ** (y / (years - 1))
            counts = rng.poisson(np.repeat(rate / 12, 12).reshape(len(codes), 12))
            for i, code in enumerate(codes):
                for m, month in enumerate(in_year):
                    rows.append((month, code, f"Ward {code[-2:]}", category, int(counts[i, m])))
    frame = pd.DataFrame(rows, columns=["month", "ward_code", "ward", "major_category", "count"])
    frame["minor_category"] = frame["major_category"]
    frame["borough"], frame["series"], frame["extract"] = "Testham", "cris", extract
    return frame


def _totals(wards):
    """The borough-level file: the ward sums plus 5% of offences no ward holds."""
    monthly = wards.groupby(["month", "major_category", "minor_category"], as_index=False)["count"].sum()
    monthly["count"] = (monthly["count"] * 1.05).round().astype(int)
    monthly["borough"] = "Testham"
    return monthly[["month", "borough", "major_category", "minor_category", "count"]]


def _view(wards, **kw):
    extracts = list(dict.fromkeys(wards["extract"]))
    return where.view(wards, "Testham", extracts, 10, {"cris": _totals(wards)}, measures=MEASURES, **kw)


def test_the_planted_hotspot_is_found_and_no_other_ward_is_listed():
    rng = np.random.default_rng(2026)
    runs, found, other = 40, 0, 0
    for _ in range(runs):
        v = _view(_borough(rng))
        listed = set(v.hotspots["place"])
        found += HOT in listed
        other += bool(listed - {HOT})
        # 20 wards x 3 measures, on the year before and over the three years of one series and one set of wards
        assert v.hotspot_year == "2024/25" and v.tests == 120
    # Theft in the planted ward rose by 41% in each year (doubling over two): found in at least 95% of runs, and a
    # ward that was not planted is listed in at most 10% of runs (the list controls the false discovery rate at 5%)
    assert found >= 0.95 * runs
    assert other <= 0.10 * runs


def test_without_a_hotspot_almost_nothing_is_listed():
    rng = np.random.default_rng(11)
    listed = [len(_view(_borough(rng, hot_growth=1.0)).hotspots) for _ in range(30)]
    assert sum(n > 0 for n in listed) <= 3  # at most 10% of runs list any ward


def test_concentration_persistence_gap_and_key_points():
    rng = np.random.default_rng(5)
    wards = _borough(rng, hot_growth=3.0)
    v = _view(wards)
    latest = v.latest()
    assert latest["count"].sum() == wards[wards["month"] >= "2024-04-01"]["count"].sum()
    assert latest.iloc[0]["place"] == HOT  # tripled theft: the top ward in the last year
    assert v.wards == 20 and not v.redrawn and v.run == ["2022/23", "2023/24", "2024/25"]
    conc = v.concentration[TOTAL.name]
    top4 = latest.head(4)["count"].sum() / latest["count"].sum() * 100
    assert conc.top_share[0.2] == pytest.approx(top4)
    assert v.gap["gap_pct"].between(4.0, 5.5).all()  # the planted 5% the ward files cannot place
    points = where.key_points(v)
    assert 3 <= len(points) <= 5
    assert points[0].text.startswith("Five of the borough's 20 wards held")
    assert any(f"Ward {HOT[-2:]}" in p.text for p in points)  # the hotspot is named


def test_redrawn_wards_are_never_compared():
    rng = np.random.default_rng(3)
    old = _borough(rng, years=2, extract="a", first="2020-04-01", codes=[f"E0510{i:04d}" for i in range(1, 21)])
    new = _borough(rng, years=3, extract="b", first="2022-04-01")
    v = _view(pd.concat([old, new], ignore_index=True))
    assert v.redrawn and v.run == ["2022/23", "2023/24", "2024/25"]
    across = v.changes[v.changes["financial_year"] == "2022/23"]
    assert not across["comparable"].any() and across["p_value"].isna().all()
    assert v.changes.loc[v.changes["financial_year"] == "2023/24", "comparable"].all()


def test_small_counts_are_hidden_for_safeguarding_measures():
    rng = np.random.default_rng(1)
    v = _view(_borough(rng))
    years = v.years.copy()
    years.loc[(years["measure"] == "Burglary"), ["safeguarding"]] = True
    years.loc[(years["measure"] == "Burglary") & (years["place"] == WARDS[0]), ["count", "small"]] = (3, True)
    shown = where.measures_table(where.WardView(**{**v.__dict__, "years": years}), 10).set_index("place")
    assert pd.isna(shown.loc[WARDS[0], "Burglary"]) and shown.loc[WARDS[1], "Burglary"] > 10
