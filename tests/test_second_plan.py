"""A second CSP's plan, added as data/plan/ files alone, following CONTRIBUTING.md's "Add another CSP's plan".

The test writes a plan for Hackney into a copy of the project's data/plan/ (the data files are the project's own,
linked), with no change to the code, and checks that the plan audit audits it row by row and that each figure
reads the same (the same period, value and verdict) in the audit and in the chapter that quotes it. The plan's
values are computed here by hand from the tidy tables, so each verdict is known before the comparator runs.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from csp_evidence.analysis import priorities
from csp_evidence.chapters import attitudes, audit, hate
from csp_evidence.chapters import violence as pt
from csp_evidence.core.paths import LOCK_NAME
from csp_evidence.data import datasets
from csp_evidence.data.plan import PlanFileError, plan_figures
from csp_evidence.report import sentences
from csp_evidence.report import words as f

ROOT = Path(__file__).resolve().parents[1]
BOROUGH = "Hackney"


def _fy(year: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(f"{year[:4]}-04-01")
    return start, start + pd.DateOffset(months=11)


def _total(table: pd.DataFrame, year: str, column: str | None = None, category: str | None = None) -> int:
    first, last = _fy(year)
    rows = table[(table["borough"] == BOROUGH) & table["month"].between(first, last)]
    if column:
        rows = rows[rows[column] == category]
    return int(rows["count"].sum())


def _pct(table: pd.DataFrame, year: str, column: str, category: str) -> float:
    before = f"{int(year[:4]) - 1}/{year[2:4]}"
    return 100 * (_total(table, year, column, category) / _total(table, before, column, category) - 1)


@pytest.fixture
def project(tmp_path, monkeypatch, fetched):
    """A project folder whose data/plan/ holds the repository's plans: the data and its cache are the project's."""
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "data" / LOCK_NAME, tmp_path / "data" / LOCK_NAME)
    for name in ("raw", "interim"):
        (ROOT / "data" / name).mkdir(exist_ok=True)
        (tmp_path / "data" / name).symlink_to(ROOT / "data" / name, target_is_directory=True)
    shutil.copytree(ROOT / "data" / "plan", tmp_path / "data" / "plan")
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def hand(crime):
    """The second plan's figures, computed by hand from the tidy tables."""
    special = datasets.hate_special_crime()
    pas = datasets.public_attitudes()
    relied = pas[
        (pas["borough"] == BOROUGH)
        & (pas["measure"] == "Relied on to be there")
        & (pas["quarter_end"] == pd.Timestamp("2020-09-30"))
    ]
    return {
        "total": _total(crime, "2019/20"),
        "violence_2021_22": _pct(crime, "2021/22", "major_category", "Violence Against the Person"),
        "violence_2020_21": _pct(crime, "2020/21", "major_category", "Violence Against the Person"),
        "homophobic": _pct(special, "2019/20", "minor_category", "Homophobic Hate Crime"),
        "knife": _pct(special, "2020/21", "minor_category", "Knife Crime"),
        "relied_on": 100 * float(relied["proportion"].iloc[0]),
    }


def write_plan(project: Path, hand: dict) -> None:
    """Steps 1 and 2 of CONTRIBUTING.md: the plan table and its assumptions and caveats log (no settings file)."""
    head = (
        "borough,figure_id,description,plan_value,unit,period,plan_section,plan_quote,"
        "kind,measure,reading,alternative,source,label,definition,assumptions,missing,proxy\n"
    )
    rows = [
        f"Hackney,total_offences_2019_20,Total recorded offences,{hand['total']},offences,2019/20,Profile,"
        f"{hand['total']} offences,count,All recorded crime,2019/20,,mps_borough_historical,,,,,",
        # the id Tower Hamlets' plan reads as 2019/20, here naming 2021/22: each plan's row names its own period
        f"Hackney,violence_change,Change in violence,{round(hand['violence_2021_22'])},per cent,2021/22 on 2020/21,"
        f"Violence,violence changed,change,Violence against the person,2021/22,2020/21,mps_borough_historical,,,,,",
        # four points off the data: the plan audit's rule says 'differs', and so must chapter 04
        f"Hackney,violence_gap,Change in violence a year earlier,{round(hand['violence_2020_21'] + 4, 1)},per cent,"
        f"previous year,Violence,violence changed,change,Violence against the person,2020/21,,"
        f"mps_borough_historical,,,A1,,",
        f"Hackney,homophobic_change,Change in homophobic hate crime,{round(hand['homophobic'])},per cent,"
        f"2019/20 on 2018/19,Hate crime,homophobic hate crime changed,change,Homophobic hate crime,2019/20,,"
        f"mps_hate_special,,,A1,,",
        f"Hackney,knife_change,Change in knife crime,{round(hand['knife'])},per cent,2020/21 on 2019/20,Knife crime,"
        f"knife crime changed,change,Knife crime,2020/21,,mps_hate_special,,,,,",
        f"Hackney,relied_on,Police relied on,{round(hand['relied_on'])},per cent,September 2020,Confidence,"
        f"relied on,survey share,Relied on to be there,2020-09,,mopac_pas,,,,,",
        "Hackney,exploitation,Change in exploitation,12,per cent,2020/21,Exploitation,exploitation rose,not open,,"
        "2020/21,,,,,,no open file counts it,",
    ]
    (project / "data" / "plan" / "hackney-csp-plan-2022-2025.csv").write_text(
        head + "\n".join(rows) + "\n", encoding="utf-8"
    )
    (project / "data" / "plan" / "hackney-csp-plan-2022-2025-assumptions.md").write_text(
        "# Assumptions and caveats: Hackney CSP plan 2022-2025\n\n"
        "## Assumptions\n\n"
        "### A1: an undated change is the year the plan's section describes\n\n"
        "- Figures: violence_gap, homophobic_change\n"
        "- Quality: amber\n"
        "- Impact: amber\n"
        "- Note: Read as the year the section describes (the second plan's test reading).\n",
        encoding="utf-8",
    )


@pytest.mark.realdata
def test_a_second_plan_is_audited_row_by_row(project, hand, crime):
    write_plan(project, hand)
    quoted = plan_figures(BOROUGH)
    table = audit.audit_table(BOROUGH).set_index("figure_id")
    assert list(table.index) == list(quoted.index)  # row by row, in the plan's order
    assert table["plan_value"].notna().all()
    verdicts = table["verdict"].to_dict()
    assert verdicts == {
        "total_offences_2019_20": "matches",
        "violence_change": "matches",
        "violence_gap": "differs",
        "homophobic_change": "matches",
        "knife_change": "matches",
        "relied_on": "matches",
        "exploitation": "cannot be checked: no open file counts it",
    }
    assert table.loc["violence_change", "period"] == "2021/22 on 2020/21"
    assert table.loc["violence_change", "recomputed"] == pytest.approx(hand["violence_2021_22"])
    assert table.loc["violence_gap", "recomputed"] == pytest.approx(hand["violence_2020_21"])
    assert table.loc["homophobic_change", "note"].startswith("Read as the year the section describes")
    # the reference plan is untouched: Tower Hamlets' violence_change is still its own 2019/20 reading
    th = audit.audit_table("Tower Hamlets").set_index("figure_id")
    assert th.loc["violence_change", "period"] == "2019/20 on 2018/19" and len(th) == 23
    assert "Hackney" in audit.audit_findings(table.reset_index(), BOROUGH)
    assert audit.assumptions_log(BOROUGH) == "data/plan/hackney-csp-plan-2022-2025-assumptions.md"


@pytest.mark.realdata
def test_each_figure_reads_the_same_in_the_audit_and_in_its_chapter(project, hand, crime):
    write_plan(project, hand)
    quoted = plan_figures(BOROUGH)
    table = audit.audit_table(BOROUGH).set_index("figure_id")

    # chapter 04: the violence changes, each in the year its row names, with the audit's value and verdict
    violence = pt.plan_change_comparisons(crime, BOROUGH, priorities.VIOLENCE, quoted).set_index("figure_id")
    assert set(violence.index) == {"violence_change", "violence_gap"}
    for fid, row in violence.iterrows():
        assert row["year"] + " on " + f"{int(row['year'][:4]) - 1}/{row['year'][2:4]}" == table.loc[fid, "period"]
        assert row["pct_change"] == pytest.approx(table.loc[fid, "recomputed"])
        assert row["verdict"] == table.loc[fid, "verdict"]
    text = pt.plan_change_sentences(violence)
    assert "read here as 2020/21" in text  # violence_gap's period is not stated in the plan's words
    assert "a difference larger than the revisions between extracts" in text
    assert "not an error" not in text  # a four-point gap is not called a revision

    special = pt.plan_change_comparisons(datasets.hate_special_crime(), BOROUGH, priorities.SPECIAL, quoted).set_index(
        "figure_id"
    )
    assert list(special.index) == ["knife_change"]
    assert special.loc["knife_change", "pct_change"] == pytest.approx(table.loc["knife_change", "recomputed"])
    assert special.loc["knife_change", "verdict"] == table.loc["knife_change", "verdict"]

    # chapter 02: the hate crime strand changes, as the audit's rows
    rows = hate.plan_rows(BOROUGH)
    assert [r["figure_id"] for r in rows] == ["homophobic_change"]
    for key, value in rows[0].items():
        expected = table.loc["homophobic_change"].get(key, "homophobic_change")
        assert value == expected or (isinstance(value, float) and math.isnan(value) and math.isnan(expected))
    assert "**matches**" in hate.plan_sentences(rows)

    # chapter 05: the survey share, for the quarter the row reads it as
    quotes = attitudes.plan_quotes(datasets.public_attitudes(), BOROUGH, quoted).set_index("figure_id")
    assert quotes.loc["relied_on", "data_value"] == pytest.approx(table.loc["relied_on", "recomputed"])
    assert quotes.loc["relied_on", "verdict"] == table.loc["relied_on", "verdict"]
    assert attitudes.plan_quote_sentence(quotes.reset_index()).endswith("the same figures.")

    # chapter 00: the total beside the plan's
    sentence = sentences.plan_comparison(BOROUGH, "2019/20", hand["total"], 0)
    assert f"quotes {f.number(hand['total'])} for 2019/20" in sentence and "the same total" in sentence
    with pytest.raises(ValueError, match="one figure, two readings"):
        sentences.plan_comparison(BOROUGH, "2019/20", hand["total"] + 1, 0)


def test_a_malformed_row_is_refused_naming_file_line_and_column(project):
    folder = project / "data" / "plan"
    head = "borough,figure_id,description,plan_value,unit,period,plan_section,plan_quote,kind,measure,reading,source\n"
    cases = {
        "kind 'tally' is not one of count": "Hackney,a,A,1,per cent,p,s,q,tally,Rape,2019/20,mps_borough_historical",
        "reading '2019' is not a reading of a change": "Hackney,a,A,1,per cent,p,s,q,change,Rape,2019,mps_borough_historical",
        "unknown source 'mps_nowhere'": "Hackney,a,A,1,per cent,p,s,q,change,Rape,2019/20,mps_nowhere",
        "plan_value 'many' is not a number": "Hackney,a,A,many,per cent,p,s,q,change,Rape,2019/20,mps_borough_historical",
    }
    for message, line in cases.items():
        (folder / "hackney-plan.csv").write_text(head + line + "\n", encoding="utf-8")
        with pytest.raises(PlanFileError, match=rf"hackney-plan.csv, line 2 \(a\): {message}"):
            plan_figures(BOROUGH)
    (folder / "hackney-plan.csv").write_text(
        head.strip() + ",assumptions\nHackney,a,A,1,per cent,p,s,q,change,Rape,2019/20,mps_borough_historical,A9\n",
        encoding="utf-8",
    )
    with pytest.raises(PlanFileError, match=r"assumption A9 is not in .*hackney-plan-assumptions.md"):
        plan_figures(BOROUGH)


@pytest.mark.realdata
def test_a_four_per_cent_gap_is_not_called_a_revision(project, hand, crime):
    # The plan audit's rule allows a count max(1%, 10 offences); chapter 00's sentence must say what the rule says.
    plan = round(hand["total"] * 1.04)
    (project / "data" / "plan" / "hackney-csp-plan-2022-2025.csv").write_text(
        "borough,figure_id,description,plan_value,unit,period,plan_section,plan_quote,kind,measure,reading,source\n"
        f"Hackney,total,Total recorded offences,{plan},offences,2019/20,Profile,{plan} offences,count,"
        "All recorded crime,2019/20,mps_borough_historical\n",
        encoding="utf-8",
    )
    assert audit.audit_table(BOROUGH)["verdict"].tolist() == ["differs"]
    sentence = sentences.plan_comparison(BOROUGH, "2019/20", hand["total"], 0)
    assert f"the difference of {f.number(hand['total'] - plan)} offences is larger than the revisions" in sentence
    assert "not an error" not in sentence and "is a revision" not in sentence


@pytest.mark.e2e
@pytest.mark.realdata
def test_the_boroughs_pack_audits_the_second_plan(project, hand, crime, monkeypatch):
    # Step 4 of CONTRIBUTING.md: build the borough's pack (here its audit and hate crime pages, as papermill runs
    # them), and the published pages read each figure as the audit does in this process.
    import json

    from csp_evidence.runner.pipeline import run

    write_plan(project, hand)
    for name in ("notebooks", "params", "site"):
        (project / name).symlink_to(ROOT / name, target_is_directory=True)
    (project / "_quarto.yml").symlink_to(ROOT / "_quarto.yml")
    monkeypatch.setenv("CSP_OUTPUTS_DIR", str(project / "outputs"))
    run(project / "params" / "hackney.yml", ["99_plan_audit", "02_hate_crime"], jobs=1)
    pack = project / "outputs" / "hackney"
    published = pd.read_csv(pack / "tables" / "99-plan-audit.csv").set_index("figure_id")
    expected = audit.audit_table(BOROUGH).set_index("figure_id")
    assert list(published.index) == list(plan_figures(BOROUGH).index)
    assert published["verdict"].tolist() == expected["verdict"].tolist()
    assert published["period"].tolist() == expected["period"].tolist()
    assert published["recomputed"].fillna(-1).tolist() == pytest.approx(expected["recomputed"].fillna(-1).tolist())
    assumptions = pd.read_csv(pack / "tables" / "99-assumptions.csv")
    assert assumptions["id"].tolist() == ["A1"]
    headlines = json.loads((pack / "notebooks" / "02_hate_crime.json").read_text(encoding="utf-8"))
    assert list(headlines["plan"]) == ["homophobic_change"]
    assert headlines["plan"]["homophobic_change"]["verdict"] == expected.loc["homophobic_change", "verdict"]
    assert headlines["plan"]["homophobic_change"]["recomputed"] == pytest.approx(
        expected.loc["homophobic_change", "recomputed"]
    )


def test_a_figure_in_two_plan_tables_of_one_borough_is_refused(project):
    row = "Hackney,a,A,1,per cent,p,s,q,change,Rape,2019/20,mps_borough_historical\n"
    head = "borough,figure_id,description,plan_value,unit,period,plan_section,plan_quote,kind,measure,reading,source\n"
    for name in ("hackney-plan-2018.csv", "hackney-plan-2022.csv"):
        (project / "data" / "plan" / name).write_text(head + row, encoding="utf-8")
    with pytest.raises(
        PlanFileError, match=r"'a' is in more than one plan table \(hackney-plan-2018.csv, hackney-plan"
    ):
        plan_figures("Tower Hamlets")


def test_a_plan_table_saved_by_excel_reads(project):
    # Excel saves CSV as UTF-8 with a byte-order mark and CRLF line ends: the plan table reads the same
    head = "borough,figure_id,description,plan_value,unit,period,plan_section,plan_quote,kind,measure,reading,source"
    row = "Hackney,a,A,-3,per cent,2019/20 on 2018/19,s,q,change,Rape,2019/20,mps_borough_historical"
    (project / "data" / "plan" / "hackney-plan.csv").write_bytes(("\ufeff" + head + "\r\n" + row + "\r\n").encode())
    quoted = plan_figures(BOROUGH)
    assert (
        list(quoted.index) == ["a"]
        and quoted.loc["a", "plan_value"] == -3
        and quoted.loc["a", "source"] == ("mps_borough_historical")
    )
