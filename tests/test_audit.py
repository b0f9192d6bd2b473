"""Tests for the plan audit: the verdict rule on hand examples, and the recomputed figures on the real data."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from csp_evidence.chapters import audit
from csp_evidence.data.plan import plan_figures

PLAN_TEXT = Path(__file__).resolve().parents[2] / "shared" / "plan" / "tower-hamlets-csp-plan-2021-2024.txt"


# --------------------------------------------------------------------------- the verdict rule, by hand


@pytest.mark.parametrize("value, decimals", [(-3.0, 0), (-1.4, 1), (-0.13, 2), (34657.0, 0), (14.5, 1)])
def test_quoted_decimals(value, decimals):
    assert audit.quoted_decimals(value) == decimals


@pytest.mark.parametrize(
    "plan, value, unit, expected",
    [
        (-3, -2.7, "per cent change", "matches"),  # -2.7 rounds to -3, the plan's precision
        (-3, -3.49, "per cent change", "matches"),
        (-3, -3.6, "per cent change", "within revision"),  # rounds to -4: 0.6 points, inside 1 point
        (-3, -4.1, "per cent change", "differs"),  # 1.1 points, no counts given: tolerance 1 point
        (-0.13, -0.134, "per cent change", "matches"),  # quoted to 2 dp: within 0.005
        (-0.13, 0.09, "per cent change", "within revision"),
        (83, 83.4, "per cent", "matches"),
        (83, 84.0, "per cent", "within revision"),
        (83, 84.6, "per cent", "differs"),
        (7, 7, "rank", "matches"),
        (7, 8, "rank", "within revision"),
        (7, 9, "rank", "differs"),
        (34657, 34657, "offences", "matches"),
        (34657, 34693, "offences", "within revision"),  # 36 offences, under 1% (346.57)
        (34657, 35100, "offences", "differs"),  # 443 offences, over 1%
        (100, 109, "offences", "within revision"),  # small counts: 10 offences allowed
        (100, 111, "offences", "differs"),
        (331620, 306780, "residents", "differs"),
        (331620, 330000, "residents", "within revision"),
    ],
)
def test_verdict_by_hand(plan, value, unit, expected):
    assert audit.verdict(plan, value, unit) == expected


def test_percentage_change_tolerance_grows_for_small_counts():
    # 97 against 130: revising 97 by the 10-offence allowance moves the change by 100 * 10 / 130 = 7.69 points
    assert audit.tolerance(-24, "per cent change", (130, 97)) == pytest.approx(100 * 10 / 130)
    assert audit.verdict(-24, -25.38, "per cent change", counts=(130, 97)) == "within revision"
    assert audit.verdict(-24, -25.38, "per cent change") == "differs"
    # large counts: 1% of 34,693 over 34,663 is about 1 point, no less than the 1-point floor
    assert audit.tolerance(-0.13, "per cent change", (34663, 34693)) == pytest.approx(100 * 346.93 / 34663)


def test_first_published_value_can_make_a_difference_a_revision():
    assert audit.verdict(34657, 36000, "offences") == "differs"
    assert audit.verdict(34657, 36000, "offences", first_published=34661) == "within revision"
    assert audit.verdict(7, 9, "rank", first_published=7) == "within revision"


def test_missing_data_no_plan_value_and_bad_unit():
    assert audit.verdict(26, None, "per cent", missing="MoJ file") == "cannot be checked: MoJ file"
    assert audit.verdict(-1.4, -0.5, "per cent change", missing="strand file") == "cannot be checked: strand file"
    assert audit.verdict(None, 5.0, "per cent change") == "no plan value"
    assert audit.verdict(math.nan, 5.0, "per cent change") == "no plan value"
    assert audit.verdict(5.0, math.nan, "per cent change").startswith("cannot be checked")
    with pytest.raises(ValueError, match="units: offences"):
        audit.verdict(1, 1, "furlongs")


def test_figure_ids_unique_and_known():
    ids = [fig.figure_id for fig in audit.FIGURES]
    assert len(ids) == len(set(ids))
    assert all(fig.unit in audit.UNITS for fig in audit.FIGURES)
    with pytest.raises(KeyError, match="figures: total_offences_2019_20"):
        audit.figure("no_such_figure")


# --------------------------------------------------------------------------- the committed plan table


def test_every_plan_figure_has_a_recompute_function():
    plan = plan_figures("Tower Hamlets")
    assert len(plan) >= 12
    assert set(plan.index) <= {fig.figure_id for fig in audit.FIGURES}


@pytest.mark.skipif(not PLAN_TEXT.is_file(), reason=f"the plan text {PLAN_TEXT} is absent")
def test_plan_quotes_are_the_plans_words_and_values():
    text = re.sub(r"\s+", " ", PLAN_TEXT.read_text(encoding="utf-8").replace("**", ""))
    headings = set(PLAN_TEXT.read_text(encoding="utf-8").splitlines())
    for figure_id, row in plan_figures("Tower Hamlets").iterrows():
        quote = re.sub(r"\s+", " ", row["plan_quote"])
        assert quote in text, f"{figure_id}: quote not in the plan text"
        value = row["plan_value"]
        shown = f"{abs(value):,.{audit.quoted_decimals(value)}f}"
        assert (
            shown in quote
            or shown.replace(",", "") in quote
            or f"{abs(value):g}th" in quote
            or f"{abs(value):g}" in quote
        ), f"{figure_id}: value {value} not in its quote"
        first_heading = row["plan_section"].split(" – ")[0].split(":")[0]
        assert any(h.strip().startswith(first_heading) for h in headings) or first_heading.startswith("Priority 4"), (
            f"{figure_id}: section {row['plan_section']!r} is not a heading of the plan"
        )


# --------------------------------------------------------------------------- recomputed on the real data


@pytest.mark.realdata
def test_tower_hamlets_recomputed_values(crime):
    table = audit.audit_table("Tower Hamlets").set_index("figure_id")
    assert table.loc["total_offences_2019_20", "recomputed"] == 34693
    assert table.loc["total_offences_2019_20", "first_published"] == 34661
    assert table.loc["total_offences_2019_20", "verdict"] == "within revision"
    assert table.loc["rank_2019_20", ["recomputed", "verdict"]].tolist() == [7, "matches"]
    assert table.loc["total_crime_change", "recomputed"] == pytest.approx(100 * (34693 / 34663 - 1))
    assert table.loc["total_crime_change", "verdict"] == "within revision"
    assert table.loc["violence_change", "recomputed"] == pytest.approx(100 * (8560 / 8799 - 1))
    assert table.loc["violence_change", "verdict"] == "matches"
    assert table.loc["relied_on_2017_03", ["recomputed", "verdict"]].tolist() == [83, "matches"]
    assert table.loc["relied_on_2020_09", ["recomputed", "verdict"]].tolist() == [65, "matches"]
    # the hate and special crime file: strands, domestic abuse, knife and gun crime (SOURCES.md's sums)
    assert table.loc["hate_crime_change", "recomputed"] == pytest.approx(100 * (767 / 792 - 1))
    assert table.loc["hate_crime_change", "verdict"] == "differs"  # -3.2% against the plan's -1.4%
    assert "racist and religious hate crime" in table.loc["hate_crime_change", "definition"]
    assert "No total is formed across strands" in table.loc["hate_crime_change", "note"]
    assert table.loc["faith_hate_change", "recomputed"] == pytest.approx(100 * (108 / 137 - 1))
    assert table.loc["faith_hate_change", "verdict"] == "within revision"
    assert table.loc["homophobic_hate_change", "recomputed"] == pytest.approx(100 * (145 / 110 - 1))
    assert table.loc["homophobic_hate_change", "verdict"] == "within revision"
    assert table.loc["domestic_abuse_change_2020_21", "recomputed"] == pytest.approx(100 * (4057 / 3610 - 1))
    assert table.loc["domestic_abuse_change_2020_21", "verdict"] == "differs"
    assert table.loc["knife_crime_change", "recomputed"] == pytest.approx(100 * (629 / 665 - 1))
    assert table.loc["knife_crime_change", "verdict"] == "within revision"
    assert table.loc["gun_crime_change", "recomputed"] == pytest.approx(100 * (62 / 75 - 1))
    assert table.loc["gun_crime_change", "verdict"] == "within revision"
    assert table.loc["knife_injury_change_2020_21", "recomputed"] == pytest.approx(100 * (134 / 167 - 1))
    assert table.loc["knife_injury_u24_change", "verdict"].startswith("cannot be checked: knife crime injury victims")
    special = table.loc[["hate_crime_change", "faith_hate_change", "knife_crime_change", "gun_crime_change"]]
    assert (
        special["source"]
        .str.contains("mps_hate_special_crime_borough_201004_202105.csv (2010-04 to 2021-05", regex=False)
        .all()
    )
    assert (special["period"] == "2019/20 on 2018/19").all()
    assert table.loc["knife_possession_change_2020_21", "recomputed"] == pytest.approx(100 * (97 / 130 - 1))
    assert table.loc["population", ["recomputed", "verdict"]].tolist() == [306780, "differs"]
    assert table.loc["adult_reoffending_rate", "verdict"].startswith("cannot be checked: MoJ")
    assert table["source"].str.contains("mps_borough_crime_historical").sum() >= 8
    assert table["plan_value"].notna().all()


@pytest.mark.realdata
def test_hackney_has_no_plan_values_but_recomputed_values(crime):
    table = audit.audit_table("Hackney").set_index("figure_id")
    assert table["plan_value"].isna().all()
    assert table["difference"].isna().all()
    checkable = [fig.figure_id for fig in audit.FIGURES if not fig.missing]
    assert table.loc[checkable, "recomputed"].notna().all()
    assert (table.loc[checkable, "verdict"] == "no plan value").all()
    assert table.loc["total_offences_2019_20", "recomputed"] > 10000
    assert "Hackney" in audit.audit_findings(table.reset_index(), "Hackney")


@pytest.mark.realdata
def test_audit_figure_matches_the_table_row(crime):
    row = audit.audit_figure("Tower Hamlets", "rank_2019_20")
    assert row["plan_value"] == 7 and row["recomputed"] == 7
    assert math.isnan(audit.audit_figure("Hackney", "rank_2019_20")["plan_value"])


def test_audit_table_with_an_unknown_plan_figure(monkeypatch):
    plan = pd.DataFrame(
        {
            "description": ["Something else"],
            "plan_value": [5.0],
            "unit": ["per cent"],
            "period": ["2019/20"],
            "plan_section": ["Somewhere"],
        },
        index=pd.Index(["unknown_figure"], name="figure_id"),
    )
    monkeypatch.setattr(audit, "FIGURES", ())
    table = audit.audit_table("Tower Hamlets", plan)
    assert table["verdict"].tolist() == ["cannot be checked: no recompute function in audit.py"]
