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


# ---- the real ward files ---------------------------------------------------------------------------------------


def _hand_counts(path, borough, months):
    """Each ward's total over `months` (YYYYMM columns), counted straight from the official CSV with the csv module."""
    import csv

    totals = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row["LookUp_BoroughName"] == borough:
                code = row["WardCode"]
                totals[code] = totals.get(code, 0) + sum(int(row[m]) for m in months)
    return totals


def _months(fy_start):
    return [f"{fy_start}{m:02d}" for m in range(4, 13)] + [f"{fy_start + 1}{m:02d}" for m in range(1, 4)]


@pytest.fixture(scope="module")
def real_views(fetched):
    return {b: where.borough_view(b, 10) for b in ("Tower Hamlets", "Westminster")}


@pytest.mark.realdata
def test_tower_hamlets_wards_shares_and_top_five_against_hand_counts(real_views):
    from conftest import MIRROR

    v = real_views["Tower Hamlets"]
    hand = _hand_counts(MIRROR / "mps/mps_ward_crime_recent_202403_202603.csv", "Tower Hamlets", _months(2025))
    latest = v.latest().set_index("place")
    assert v.latest_year == "2025/26" and len(hand) == 20 == v.wards
    assert latest["count"].to_dict() == hand
    total = sum(hand.values())
    top5 = sorted(hand, key=lambda c: (-hand[c], c))[:5]
    assert v.latest()["place"].head(5).tolist() == top5
    for code in top5:
        assert latest.loc[code, "share"] == pytest.approx(100 * hand[code] / total)
    # 2021/22 from the CRIS-era extract to August 2022: 32,303 offences placed in a ward (SOURCES.md)
    total_2122 = v.years[(v.years["measure"] == "All recorded crime") & (v.years["financial_year"] == "2021/22")]
    assert total_2122["count"].sum() == 32_303
    assert not v.redrawn and v.run == ["2021/22", "2022/23", "2023/24", "2024/25", "2025/26"]
    # changes on the year before only within one series: 2023/24 (CONNECT) is never set against 2022/23 (CRIS)
    across = v.changes[(v.changes["financial_year"] == "2023/24") & (v.changes["since"] == "2022/23")]
    assert len(across) and not across["comparable"].any()
    assert v.shapes.method == "published" and len(v.shapes.shapes) == 20
    assert v.funnel is not None and v.funnel["population"].sum() == pytest.approx(310_303, abs=50)  # SOURCES.md


@pytest.mark.realdata
def test_a_borough_whose_wards_were_redrawn(real_views):
    from conftest import MIRROR

    v = real_views["Westminster"]
    old = _hand_counts(MIRROR / "mps/mps_ward_crime_recent_202009_202208.csv", "Westminster", _months(2021))
    new = _hand_counts(MIRROR / "mps/mps_ward_crime_recent_202109_202308.csv", "Westminster", _months(2022))
    assert not set(old) & set(new)  # redrawn in May 2022: no ward code in both
    years = v.years[v.years["measure"] == "All recorded crime"]
    assert years[years["financial_year"] == "2021/22"].set_index("place")["count"].to_dict() == old
    assert years[years["financial_year"] == "2022/23"].set_index("place")["count"].to_dict() == new
    assert v.redrawn and v.run[0] == "2022/23"
    assert not v.changes.loc[v.changes["financial_year"] == "2022/23", "comparable"].any()
    assert all(p in new for p in v.persistence.every_year)
    assert v.shapes.method == "lsoa" and v.shapes.approximate and not v.shapes.missing


def test_the_london_index_links_each_borough_s_ward_chapter(tmp_path):
    from csp_evidence.report.headlines import write_headlines
    from csp_evidence.website.london import BoroughPack, london_page

    for name in ("hackney", "camden"):
        write_headlines(tmp_path / name, "00_overview", {"headline_year": "2019/20", "total_offences": 1})
    write_headlines(tmp_path / "hackney", "00_where", {"borough": "Hackney", "wards": 21})  # Camden has no chapter
    page, _ = london_page(tmp_path, [BoroughPack("hackney", "Hackney", True), BoroughPack("camden", "Camden", True)])
    assert '<a href="../hackney/site/00_where.html">wards: areas of focus</a>' in page
    assert "../camden/site/00_where.html" not in page


def test_two_chapters_sharing_a_number_never_claim_each_other_s_files():
    from csp_evidence.core.paths import output_prefix

    stems = ["00_overview", "00_where", "01_asb_neighbourhood"]
    assert [output_prefix(s, stems) for s in stems] == ["00", "00w", "01"]
    assert output_prefix("00_where") == where.SLUG == "00w"  # the notebooks folder as committed


def test_deprivation_words_follow_the_correlation():
    from csp_evidence.report.place_words import deprivation_sentence

    assert "strongly higher in the more deprived wards" in deprivation_sentence(-0.75, 20)
    assert "only weakly higher in the less deprived wards" in deprivation_sentence(0.19, 18)
    assert "no clear link with deprivation" in deprivation_sentence(-0.04, 20)
    assert "cannot be set beside" in deprivation_sentence(None, 20)
