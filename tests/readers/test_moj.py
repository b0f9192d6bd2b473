"""Tests for the MoJ proven reoffending reader, on a small made-up file in the data-tool CSV layout."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from csp_evidence.analysis.reoffending import reoffending_rates
from csp_evidence.data.readers.moj import MojFormatError, parse_cohort, read_proven_reoffending

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "moj" / "PRSQ_Geographic_data_fixture.csv"
HEADER = "Geography,Category,Adult / Juvenile,Cohort,offenders,reoffenders,reoffences"

TIDY_COLUMNS = [
    "geography",
    "category",
    "age_group",
    "cohort",
    "cohort_start",
    "cohort_end",
    "cohort_months",
    "offenders",
    "reoffenders",
    "reoffences",
]


def _z_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Pooled two-proportion z-test, two-sided, by hand (normal tail via erfc)."""
    p1, p2, p = x1 / n1, x2 / n2, (x1 + x2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))


def _wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "PRSQ_bad.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def test_read_tidy_shape_and_types():
    tidy = read_proven_reoffending(FIXTURE)
    assert list(tidy.columns) == TIDY_COLUMNS
    assert len(tidy) == 11
    assert set(tidy["geography"]) == {"Tower Hamlets", "Hackney"}
    assert set(tidy["age_group"]) == {"Adult", "Juvenile"}
    for col in ("offenders", "reoffenders", "reoffences", "cohort_months"):
        assert tidy[col].dtype == "int64"
    row = tidy[
        (tidy["geography"] == "Hackney")
        & (tidy["cohort"] == "Apr 2019 to Mar 2020")
        & (tidy["age_group"] == "Juvenile")
    ].iloc[0]
    assert (row["offenders"], row["reoffenders"], row["reoffences"]) == (100, 26, 90)
    assert row["cohort_start"] == pd.Timestamp("2019-04-01")
    assert row["cohort_end"] == pd.Timestamp("2020-03-31")
    assert row["cohort_months"] == 12


@pytest.mark.parametrize(
    "label, start, end, months",
    [
        ("Apr 2019 to Mar 2020", "2019-04-01", "2020-03-31", 12),
        ("Jan 2020 to Mar 2020", "2020-01-01", "2020-03-31", 3),
        ("Oct 2019 to Dec 2019", "2019-10-01", "2019-12-31", 3),
        ("January 2020 to March 2020", "2020-01-01", "2020-03-31", 3),
        ("Oct 2019 to Feb 2020", "2019-10-01", "2020-02-29", 5),
    ],
)
def test_parse_cohort(label, start, end, months):
    assert parse_cohort(label) == (pd.Timestamp(start), pd.Timestamp(end), months)


@pytest.mark.parametrize("label", ["2019/20", "Apr 2020 to Mar 2019", "Abc 2019 to Mar 2020"])
def test_parse_cohort_rejects(label):
    with pytest.raises(ValueError, match=label.split()[0]):
        parse_cohort(label)


def test_rates_hand_computed_twelve_month():
    rates = reoffending_rates(read_proven_reoffending(FIXTURE), "Tower Hamlets", "Adult")
    twelve = rates[rates["cohort_months"] == 12].set_index("cohort")
    assert list(twelve.index) == ["Apr 2017 to Mar 2018", "Apr 2018 to Mar 2019", "Apr 2019 to Mar 2020"]
    assert twelve["rate"].tolist() == pytest.approx([420 / 1500, 378 / 1400, 325 / 1250])  # 28%, 27%, 26%
    last = twelve.loc["Apr 2019 to Mar 2020"]
    assert (last["ci_low"], last["ci_high"]) == pytest.approx(_wilson(325, 1250), abs=1e-12)
    assert last["previous_cohort"] == "Apr 2018 to Mar 2019"
    assert last["previous_rate"] == pytest.approx(0.27)
    assert last["change_pp"] == pytest.approx(-1.0)
    assert last["p_value"] == pytest.approx(_z_p(325, 1250, 378, 1400), rel=1e-9)
    first = twelve.loc["Apr 2017 to Mar 2018"]
    assert pd.isna(first["previous_cohort"]) and pd.isna(first["change_pp"]) and pd.isna(first["p_value"])


def test_rates_three_month_compared_with_previous_quarter_only():
    rates = reoffending_rates(read_proven_reoffending(FIXTURE), "Tower Hamlets", "Adult")
    q = rates.set_index("cohort").loc["Jan 2020 to Mar 2020"]
    assert q["rate"] == pytest.approx(0.30)
    # previous cohort of the same length (Oct-Dec 2019, 25%), not the overlapping 12-month cohort
    assert q["previous_cohort"] == "Oct 2019 to Dec 2019"
    assert q["change_pp"] == pytest.approx(5.0)
    assert q["p_value"] == pytest.approx(_z_p(90, 300, 80, 320), rel=1e-9)
    assert pd.isna(rates.set_index("cohort").loc["Oct 2019 to Dec 2019", "previous_cohort"])


def test_rates_juvenile_26_of_100():
    rates = reoffending_rates(read_proven_reoffending(FIXTURE), "Hackney", "Juvenile").set_index("cohort")
    row = rates.loc["Apr 2019 to Mar 2020"]
    assert row["rate"] == pytest.approx(0.26)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.18405, 0.35371), abs=5e-5)
    assert row["change_pp"] == pytest.approx(-14.0)
    assert row["p_value"] == pytest.approx(_z_p(26, 100, 40, 100), rel=1e-9)
    assert row["p_value"] < 0.05


def test_rates_output_columns():
    rates = reoffending_rates(read_proven_reoffending(FIXTURE), "Hackney", "Adult")
    assert list(rates.columns) == [
        "geography",
        "category",
        "age_group",
        "cohort",
        "cohort_start",
        "cohort_end",
        "cohort_months",
        "offenders",
        "reoffenders",
        "rate",
        "ci_low",
        "ci_high",
        "previous_cohort",
        "previous_rate",
        "change_pp",
        "p_value",
        "reoffences",
        "per_reoffender",
    ]


def test_rates_unknown_geography_and_age_group():
    tidy = read_proven_reoffending(FIXTURE)
    with pytest.raises(ValueError, match="Islington"):
        reoffending_rates(tidy, "Islington", "Adult")
    with pytest.raises(ValueError, match="Youth"):
        reoffending_rates(tidy, "Hackney", "Youth")


def test_reoffenders_above_offenders_names_file_and_line(tmp_path):
    path = _write(
        tmp_path,
        "Hackney,UTLA total,Adult,Apr 2018 to Mar 2019,1300,325,1100",
        "Hackney,UTLA total,Adult,Apr 2019 to Mar 2020,100,312,1000",
    )
    with pytest.raises(MojFormatError) as exc:
        read_proven_reoffending(path)
    msg = str(exc.value)
    assert str(path) in msg and "line 3" in msg and "reoffenders <= offenders" in msg and "offenders=100" in msg


def test_negative_count(tmp_path):
    path = _write(tmp_path, "Hackney,UTLA total,Adult,Apr 2018 to Mar 2019,-5,0,0")
    with pytest.raises(MojFormatError) as exc:
        read_proven_reoffending(path)
    assert "line 2" in str(exc.value) and "'offenders'" in str(exc.value)


def test_non_numeric_count(tmp_path):
    path = _write(tmp_path, "Hackney,UTLA total,Adult,Apr 2018 to Mar 2019,1300,*,1100")
    with pytest.raises(MojFormatError) as exc:
        read_proven_reoffending(path)
    msg = str(exc.value)
    assert str(path) in msg and "line 2" in msg and "'reoffenders'" in msg and "'*'" in msg


def test_thousands_separator_accepted(tmp_path):
    path = _write(tmp_path, 'Hackney,UTLA total,Adult,Apr 2018 to Mar 2019,"1,300",325,"1,100"')
    tidy = read_proven_reoffending(path)
    assert tidy.loc[0, "offenders"] == 1300 and tidy.loc[0, "reoffences"] == 1100


def test_bad_age_group_and_cohort(tmp_path):
    path = _write(tmp_path, "Hackney,UTLA total,Youth,Apr 2018 to Mar 2019,1300,325,1100")
    with pytest.raises(MojFormatError, match=r"line 2, column 'Adult / Juvenile'.*Youth"):
        read_proven_reoffending(path)
    path = _write(tmp_path, "Hackney,UTLA total,Adult,2018/19,1300,325,1100")
    with pytest.raises(MojFormatError, match=r"line 2, column 'Cohort'.*2018/19"):
        read_proven_reoffending(path)


def test_missing_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(
        "Geography,Category,Adult / Juvenile,Cohort,offenders,reoffenders\nA,B,Adult,Apr 2018 to Mar 2019,1,0\n"
    )
    with pytest.raises(MojFormatError) as exc:
        read_proven_reoffending(path)
    assert str(path) in str(exc.value) and "reoffences" in str(exc.value)


def test_duplicate_rows_rejected(tmp_path):
    row = "Hackney,UTLA total,Adult,Apr 2018 to Mar 2019,1300,325,1100"
    with pytest.raises(MojFormatError, match="line 3"):
        read_proven_reoffending(_write(tmp_path, row, row))


def test_zero_offenders_gives_nan_rate(tmp_path):
    path = _write(
        tmp_path,
        "Hackney,UTLA total,Juvenile,Jan 2020 to Mar 2020,0,0,0",
        "Hackney,UTLA total,Juvenile,Apr 2020 to Jun 2020,10,2,3",
    )
    rates = reoffending_rates(read_proven_reoffending(path), "Hackney", "Juvenile").set_index("cohort")
    assert pd.isna(rates.loc["Jan 2020 to Mar 2020", "rate"])
    assert rates.loc["Apr 2020 to Jun 2020", "rate"] == pytest.approx(0.2)
    assert pd.isna(rates.loc["Apr 2020 to Jun 2020", "p_value"])


@pytest.mark.parametrize("value", ["9223372036854775808", "1e308", "1e3", "5.0", "+5", "1,30"])
def test_a_count_out_of_range_or_not_a_plain_whole_number_is_refused_with_line_and_column(tmp_path, value):
    path = _write(
        tmp_path,
        "Hackney,UTLA total,Adult,Apr 2018 to Mar 2019,1300,325,1100",
        f'Hackney,UTLA total,Juvenile,Apr 2018 to Mar 2019,"{value}",0,0',
    )
    with pytest.raises(MojFormatError) as exc:
        read_proven_reoffending(path)
    msg = str(exc.value)
    assert f"{path}, line 3, column 'offenders': count '{value}' is not a non-negative whole number" in msg
