"""The MPS hate crime and special crime reader: on the real mirrored file, and on damaged copies of it."""

import csv
from pathlib import Path

import pandas as pd
import pytest

from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.readers.mps_hate_special import AVIATION_SECURITY, read_hate_special_crime

FILE = "mps/mps_hate_special_crime_borough_201004_202105.csv"


def _fy(start: int) -> list[str]:
    return [f"{start}{m:02d}" for m in range(4, 13)] + [f"{start + 1}{m:02d}" for m in range(1, 4)]


def _by_hand(path: Path, borough: str | None, minor: str, start: int) -> int:
    """A financial year's count straight from the CSV, without the library (all rows when borough is None)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(
            int(row[m])
            for row in csv.DictReader(fh)
            if row["MinorText"] == minor and (borough is None or row["Borough"] == borough)
            for m in _fy(start)
        )


@pytest.fixture(scope="module")
def names(fetched):
    from csp_evidence.data.datasets import _mps_borough_names

    return _mps_borough_names()


@pytest.fixture(scope="module")
def special(fetched):
    from csp_evidence.data import datasets

    return datasets.hate_special_crime()


@pytest.mark.realdata
def test_real_file_is_tidy_and_complete(special):
    assert special["month"].min() == pd.Timestamp("2010-04-01")
    assert special["month"].max() == pd.Timestamp("2021-05-01")
    assert special["month"].nunique() == 134
    units = set(special["borough"])
    assert len(units) == 33 and AVIATION_SECURITY in units and "City of London" not in units
    assert set(special["major_category"]) == {"Hate", "Special"}
    assert special["minor_category"].nunique() == 23
    assert len(special) == 33 * 23 * 134
    assert (special["count"] >= 0).all()


# Tower Hamlets, from the mirror's SOURCES.md (its own independent sums), and by hand from the CSV here.
SOURCES_MD = [
    ("Faith Hate Crime", 2018, 137),
    ("Faith Hate Crime", 2019, 108),
    ("Homophobic Hate Crime", 2018, 110),
    ("Homophobic Hate Crime", 2019, 145),
    ("Knife Crime", 2018, 665),
    ("Knife Crime", 2019, 629),
    ("Racist and Religious Hate Crime", 2020, 1031),
    ("Domestic Abuse", 2020, 4057),
    ("Anti-Semitic", 2020, 45),
]


@pytest.mark.realdata
@pytest.mark.parametrize("minor, start, expected", SOURCES_MD)
def test_real_totals_match_sources_md_and_an_independent_read(special, fetched, minor, start, expected):
    months = pd.to_datetime(_fy(start), format="%Y%m")
    rows = special[(special["borough"] == "Tower Hamlets") & (special["minor_category"] == minor)]
    assert (
        rows[rows["month"].isin(months)]["count"].sum()
        == expected
        == _by_hand(fetched / FILE, "Tower Hamlets", minor, start)
    )


@pytest.mark.realdata
def test_every_mps_borough_is_in_the_real_file(fetched, names):
    known, policed = names
    tidy = read_hate_special_crime(fetched / FILE, known, policed)
    assert set(policed) <= set(tidy["borough"]) and len(policed) == 32


# --- damaged copies of the real file ------------------------------------------------------------------


def _copy(fetched, tmp_path, edit) -> Path:
    """A copy of the real file with `edit` applied to its list of CRLF lines."""
    lines = (fetched / FILE).read_bytes().decode("utf-8").split("\r\n")
    path = tmp_path / "damaged.csv"
    path.write_bytes("\r\n".join(edit(lines)).encode("utf-8"))
    return path


def _set_cell(lines, line: int, column: str, value: str):
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    return [*lines[: line - 1], ",".join(cells), *lines[line:]]


@pytest.mark.realdata
def test_damaged_missing_column(fetched, tmp_path):
    path = _copy(fetched, tmp_path, lambda lines: [lines[0].replace("MinorText", "Minor"), *lines[1:]])
    with pytest.raises(SourceFormatError, match=r"column 'MinorText'.*missing column\(s\) \['MinorText'\]") as err:
        read_hate_special_crime(path)
    assert str(path) in str(err.value)


@pytest.mark.realdata
@pytest.mark.parametrize("bad", ["12.5", "ten", "-3", ""])
def test_damaged_count_names_line_and_column(fetched, tmp_path, names, bad):
    path = _copy(fetched, tmp_path, lambda lines: _set_cell(lines, 5, "201511", bad))
    with pytest.raises(SourceFormatError) as err:
        read_hate_special_crime(path, *names)
    message = str(err.value)
    assert f"{path}: line 5, column '201511': count {bad!r} is not a non-negative whole number" in message
    assert err.value.row == 5 and err.value.column == "201511"


@pytest.mark.realdata
def test_damaged_missing_borough(fetched, tmp_path, names):
    path = _copy(fetched, tmp_path, lambda lines: [line for line in lines if not line.startswith("Hackney,")])
    with pytest.raises(SourceFormatError, match=r"column 'Borough': no rows for borough\(s\) Hackney"):
        read_hate_special_crime(path, *names)


@pytest.mark.realdata
def test_damaged_missing_borough_category_row(fetched, tmp_path, names):
    path = _copy(
        fetched, tmp_path, lambda lines: [x for x in lines if not x.startswith("Sutton,Hate,Transgender Hate,")]
    )
    with pytest.raises(SourceFormatError, match=r"rows missing \(Sutton: Transgender Hate\)"):
        read_hate_special_crime(path, *names)


@pytest.mark.realdata
def test_damaged_unknown_borough_and_duplicate_row(fetched, tmp_path, names):
    path = _copy(fetched, tmp_path, lambda lines: _set_cell(lines, 3, "Borough", "Gotham"))
    with pytest.raises(SourceFormatError, match=r"line 3, column 'Borough': unknown borough 'Gotham'"):
        read_hate_special_crime(path, *names)
    path = _copy(fetched, tmp_path, lambda lines: [*lines[:3], lines[1], *lines[3:]])
    with pytest.raises(SourceFormatError, match=r"line 4, duplicated row: same borough and categories as line 2"):
        read_hate_special_crime(path, *names)


@pytest.mark.realdata
def test_damaged_month_past_the_data_is_never_read_as_zero(fetched, tmp_path, names):
    # a month column added past May 2021 with no counts in it: refused, naming the first empty cell
    def add_month(lines):
        return [lines[0] + ",202106", *(line + "," if line else line for line in lines[1:])]

    path = _copy(fetched, tmp_path, add_month)
    with pytest.raises(
        SourceFormatError, match=r"line 2, column '202106': count '' is not a non-negative whole number"
    ):
        read_hate_special_crime(path, *names)


@pytest.mark.realdata
def test_years_past_the_data_are_refused_or_marked(special):
    from csp_evidence.analysis import priorities, summaries
    from csp_evidence.chapters import hate

    assert summaries.complete_financial_years(special)[-1] == "2020/21"
    with pytest.raises(ValueError, match=r"2021/22 not wholly in the data, which covers 2010-04 to 2021-05"):
        summaries.measure_table(special, "Tower Hamlets", "2021/22", priorities.HATE_STRANDS)
    with pytest.raises(ValueError, match=r"2021/22 not wholly in the data"):
        summaries.totals_by_year(special, "Tower Hamlets", ["2020/21", "2021/22"], ["Knife Crime"], "minor_category")
    table = hate.strands_by_year(special, "Tower Hamlets", ["2020/21", "2021/22"], 10)
    past = table[table["financial_year"] == "2021/22"]
    assert len(past) == 7 and past["count"].isna().all()
    assert (past["status"] == "past the data (the file ends May 2021)").all()
    assert summaries.year_in_data(special, "2022/23") == "2020/21"
    assert summaries.year_in_data(special, "2019/20") == "2019/20"


# --- small files made here ----------------------------------------------------------------------------

HEADER = "Borough,MajorText,MinorText,202001,202002,202003"


def _write(tmp_path, lines):
    path = tmp_path / "small.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_small_file_reads_to_the_recorded_crime_layout(tmp_path):
    path = _write(
        tmp_path,
        [HEADER, "Hackney,Hate,Faith Hate Crime,1,2,3", f"{AVIATION_SECURITY},Hate,Faith Hate Crime,0,0,1"],
    )
    tidy = read_hate_special_crime(path, known_boroughs=["Hackney"], required_boroughs=["Hackney"])
    assert list(tidy.columns) == ["month", "borough", "major_category", "minor_category", "count"]
    assert len(tidy) == 6 and tidy["count"].sum() == 7


@pytest.mark.parametrize(
    "lines, match",
    [
        ([HEADER, "Hackney,Other,Faith Hate Crime,1,2,3"], r"line 2, column 'MajorText': value 'Other' fails isin"),
        (
            ["Borough,MajorText,MinorText,202001,202003", "Hackney,Hate,Faith Hate Crime,1,2"],
            r"missing from the columns: 202002",
        ),
        (
            [HEADER.replace("202003", "notes"), "Hackney,Hate,Faith Hate Crime,1,2,x"],
            r"unexpected column\(s\) \['notes'\]",
        ),
        ([HEADER], "no data rows"),
    ],
)
def test_bad_small_files_name_the_problem(tmp_path, lines, match):
    with pytest.raises(SourceFormatError, match=match):
        read_hate_special_crime(_write(tmp_path, lines))


def test_city_of_london_and_airports_are_not_boroughs():
    from csp_evidence.analysis.summaries import london_total

    counts = pd.Series({"Hackney": 5, "Camden": 7, AVIATION_SECURITY: 100})
    assert london_total(counts) == 12


@pytest.mark.realdata
@pytest.mark.parametrize("big", ["9223372036854775807", "9223372036854775808", "1000000001"])
def test_damaged_count_too_large_for_a_sum_is_refused(fetched, tmp_path, names, big):
    # the largest int64 was read (and one more was a traceback): a sum with it wrapped round to a negative total
    path = _copy(fetched, tmp_path, lambda lines: _set_cell(lines, 5, "201511", big))
    with pytest.raises(SourceFormatError) as err:
        read_hate_special_crime(path, *names)
    message = str(err.value)
    assert str(path) in message and "(Bexley, Anti-Semitic)" in message
    assert f"line 5, column '201511': count {big!r} is not a non-negative whole number up to 1,000,000,000" in message
