"""Tests for the plan audit page: the committed plan table, and the recomputed figures on the real data (the verdict
rule's own tests are in test_plan_audit.py, with the comparator)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from csp_evidence.analysis import plan_audit
from csp_evidence.chapters import audit
from csp_evidence.data.plan import PlanFileError, plan_figures

PLAN_TEXT = Path(__file__).resolve().parents[2] / "shared" / "plan" / "tower-hamlets-csp-plan-2021-2024.txt"


# --------------------------------------------------------------------------- the committed plan table


def test_every_plan_figure_has_a_recompute_function():
    plan = plan_figures("Tower Hamlets")
    assert len(plan) >= 12
    assert set(plan["kind"]) <= set(plan_audit.RECOMPUTE)


@pytest.mark.skipif(not PLAN_TEXT.is_file(), reason=f"the plan text {PLAN_TEXT} is absent")
def test_plan_quotes_are_the_plans_words_and_values():
    text = re.sub(r"\s+", " ", PLAN_TEXT.read_text(encoding="utf-8").replace("**", ""))
    headings = set(PLAN_TEXT.read_text(encoding="utf-8").splitlines())
    for figure_id, row in plan_figures("Tower Hamlets").iterrows():
        quote = re.sub(r"\s+", " ", row["plan_quote"])
        assert quote in text, f"{figure_id}: quote not in the plan text"
        value = row["plan_value"]
        shown = f"{abs(value):,.{plan_audit.quoted_decimals(value)}f}"
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
    checkable = [fig.figure_id for fig in plan_audit.figures("Hackney") if not fig.missing]
    assert table.loc[checkable, "recomputed"].notna().all()
    assert (table.loc[checkable, "verdict"] == "no plan value").all()
    assert table.loc["total_offences_2019_20", "recomputed"] > 10000
    assert "Hackney" in audit.audit_findings(table.reset_index(), "Hackney")


@pytest.mark.realdata
def test_audit_figure_matches_the_table_row(crime):
    row = audit.audit_figure("Tower Hamlets", "rank_2019_20")
    assert row["plan_value"] == 7 and row["recomputed"] == 7
    assert math.isnan(audit.audit_figure("Hackney", "rank_2019_20")["plan_value"])


def test_a_plan_row_of_an_unknown_kind_is_refused(tmp_path, monkeypatch):
    # Before plans were data, an unknown figure came out "cannot be checked: no recompute function"; now the row
    # says what it measures, and a kind the comparator does not know is refused on reading, naming file and line.
    table = tmp_path / "data" / "plan" / "somewhere-plan.csv"
    table.parent.mkdir(parents=True)
    (tmp_path / "data" / "sources.lock").write_text("{}", encoding="utf-8")
    table.write_text(
        "borough,figure_id,description,plan_value,unit,period,plan_section,plan_quote,measure,kind,reading,source\n"
        "Hackney,unknown_figure,Something else,5,per cent,2019/20,Somewhere,5 per cent,,furlongs,2019/20,"
        "mps_borough_historical\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    with pytest.raises(PlanFileError, match=r"somewhere-plan.csv, line 2 \(unknown_figure\): kind 'furlongs'"):
        audit.audit_table("Hackney")


def test_every_reading_is_in_the_reviewed_log_beside_the_plan():
    from csp_evidence.data.plan import confidence_target

    table = audit.assumptions_table("Tower Hamlets").set_index("id")
    plan = plan_figures("Tower Hamlets")
    # every assumption a row names is in the log, and the log lists that row among its figures
    for figure_id, ids in plan["assumptions"].items():
        for aid in filter(None, (part.strip() for part in ids.split(";"))):
            assert figure_id in table.loc[aid, "figures"], f"{aid} does not list {figure_id}"
    assert set(table["quality"]) <= {"green", "amber", "red"} and set(table["impact"]) <= {"green", "amber", "red"}
    # the audit's notes are the log's, not strings in the code
    assert plan.loc["violence_change", "note"] == table.loc["A2", "note"]
    assert confidence_target("Tower Hamlets").note == table.loc["A10", "note"]
    assert audit.assumptions_log("Hackney") == "data/plan/tower-hamlets-csp-plan-2021-2024-assumptions.md"
