"""Tests for the MOPAC PAS Borough dashboard reader: synthetic files for the errors, the real file for the rest."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csp_evidence.data.readers.mopac import (
    BOROUGHS,
    MEASURES,
    PasFormatError,
    normalise_borough,
    read_pas,
)

PROJECT = Path(__file__).resolve().parents[2]
MIRROR = Path(os.environ.get("CSP_DATA_MIRROR", PROJECT.parent / "shared" / "data"))
PAS_FILE = MIRROR / "other" / "mopac_pas_borough_PAS_Dashboard_Borough.csv"

needs_file = pytest.mark.skipif(
    not PAS_FILE.exists(),
    reason=f"PAS file not mirrored at {PAS_FILE} (set CSP_DATA_MIRROR to the shared/data folder to run)",
)

HEADER = "Date,Survey,Borough,Measure,Proportion,MPS,,,,"
PAS_NAMES = [("City of Westminster" if b == "Westminster" else b) for b in BOROUGHS]


def _synthetic(tmp_path: Path, edit=None) -> Path:
    """A one-quarter, two-measure file in the real file's quirky layout (decimal commas, d/m/yyyy, no final newline)."""
    rows = []
    for measure, london in (("Relied on to be there", "0,67"), ("Trust MPS", "0,7")):
        for i, b in enumerate(PAS_NAMES):
            rows.append(["30/9/2020", "PAS", b, measure, f"0,{50 + i}", london, "", "", "", ""])
    if edit:
        rows = edit(rows)
    path = tmp_path / "pas.csv"
    text = HEADER + "\n" + "\n".join(",".join(f'"{c}"' if "," in c else c for c in r) for r in rows)
    path.write_text(text)  # no final newline, as in the real file
    return path


# ---------------------------------------------------------------- synthetic


def test_synthetic_reads_and_normalises(tmp_path):
    tidy = read_pas(_synthetic(tmp_path))
    assert list(tidy.columns) == ["quarter_end", "borough", "measure", "proportion", "london"]
    assert len(tidy) == 64
    assert set(tidy["borough"]) == set(BOROUGHS)
    assert "City of Westminster" not in set(tidy["borough"])
    row = tidy[(tidy["borough"] == "Barnet") & (tidy["measure"] == "Trust MPS")].iloc[0]
    assert row["quarter_end"] == pd.Timestamp("2020-09-30")
    assert row["proportion"] == pytest.approx(0.51)
    assert row["london"] == pytest.approx(0.70)


def test_normalise_borough():
    assert normalise_borough("City of Westminster") == "Westminster"
    assert normalise_borough("Richmond Upon Thames") == "Richmond upon Thames"
    assert normalise_borough("richmond  upon thames") == "Richmond upon Thames"
    with pytest.raises(KeyError):
        normalise_borough("City of London")


def test_proportion_out_of_range(tmp_path):
    def edit(rows):
        rows[5][4] = "1,25"
        return rows

    path = _synthetic(tmp_path, edit)
    with pytest.raises(PasFormatError) as exc:
        read_pas(path)
    msg = str(exc.value)
    assert str(path) in msg and "line 7" in msg and "'Proportion'" in msg and "1.25" in msg


def test_unknown_measure_and_borough(tmp_path):
    def edit(rows):
        rows[0][3] = "Feel safe"
        rows[1][2] = "City of London"
        return rows

    with pytest.raises(PasFormatError) as exc:
        read_pas(_synthetic(tmp_path, edit))
    msg = str(exc.value)
    assert "line 2, column 'Measure'" in msg and "Feel safe" in msg
    assert "line 3, column 'Borough'" in msg and "City of London" in msg


def test_bad_date(tmp_path):
    def edit(rows):
        rows[3][0] = "2020-09-30"
        return rows

    with pytest.raises(PasFormatError, match=r"line 5, column 'Date'.*2020-09-30"):
        read_pas(_synthetic(tmp_path, edit))


def test_not_a_quarter_end(tmp_path):
    def edit(rows):
        for r in rows:
            r[0] = "15/9/2020"
        return rows

    with pytest.raises(PasFormatError, match=r"line 2, column 'Date'.*quarter end"):
        read_pas(_synthetic(tmp_path, edit))


def test_missing_borough(tmp_path):
    with pytest.raises(PasFormatError, match=r"30/09/2020 'Trust MPS' has 31 boroughs.*Hackney"):
        read_pas(
            _synthetic(tmp_path, lambda rows: [r for r in rows if not (r[2] == "Hackney" and r[3] == "Trust MPS")])
        )


def _with_quarters(quarters: dict[str, list[str]]):
    """An edit giving each measure the listed quarter ends (d/m/yyyy), all 32 boroughs in each."""

    def edit(rows):
        return [[date, *r[1:]] for r in rows for date in quarters.get(r[3], [])]

    return edit


def test_missing_quarter(tmp_path):
    # A quarter missing from the middle of a measure's series would make "the latest twelve months against the
    # year before" compare against nothing; a measure may start later than another, though.
    gap = _with_quarters({"Trust MPS": ["30/9/2020", "31/3/2021"], "Relied on to be there": ["30/9/2020"]})
    with pytest.raises(
        PasFormatError,
        match=r"'Trust MPS' has no rows for the quarter\(s\) ending 31/12/2020 "
        r"between 30/09/2020 and 31/03/2021 \(column 'Date'\)",
    ):
        read_pas(_synthetic(tmp_path, gap))
    later = _with_quarters({"Trust MPS": ["31/12/2020"], "Relied on to be there": ["30/9/2020", "31/12/2020"]})
    assert read_pas(_synthetic(tmp_path, later)).groupby("measure")["quarter_end"].nunique().to_dict() == {
        "Relied on to be there": 2,
        "Trust MPS": 1,
    }


def test_duplicate_after_normalising(tmp_path):
    def edit(rows):
        extra = list(rows[0])
        extra[2] = extra[2].upper()  # 'BARKING AND DAGENHAM' normalises onto an existing row
        return rows + [extra]

    repeated = r"line 66, columns Date/Borough/Measure: \(30/09/2020, 'Barking and Dagenham'.*repeated"
    with pytest.raises(PasFormatError, match=repeated):
        read_pas(_synthetic(tmp_path, edit))


def test_decimal_point_rejected(tmp_path):
    def edit(rows):
        rows[2][5] = "0.67"
        return rows

    with pytest.raises(PasFormatError, match=r"line 4, column 'MPS'"):
        read_pas(_synthetic(tmp_path, edit))


def test_missing_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('Date,Survey,Borough,Measure,Proportion\n30/9/2020,PAS,Barnet,Trust MPS,"0,5"\n')
    with pytest.raises(PasFormatError) as exc:
        read_pas(path)
    assert str(path) in str(exc.value) and "MPS" in str(exc.value)


def _series(tidy, borough, measure):
    """One borough's rows for one measure, by quarter, with the gap to London in points."""
    rows = tidy[(tidy["borough"] == borough) & (tidy["measure"] == measure)].sort_values("quarter_end")
    return rows.assign(difference_pp=(rows["proportion"] - rows["london"]) * 100).reset_index(drop=True)


def test_borough_names_are_normalised_and_values_read_with_decimal_commas(tmp_path):
    tidy = read_pas(_synthetic(tmp_path))
    s = _series(tidy, "Westminster", "Relied on to be there")  # 'City of Westminster' in the file
    assert s.loc[0, "proportion"] == pytest.approx(0.81)  # index 31 in the list -> "0,81"
    assert s.loc[0, "difference_pp"] == pytest.approx(14.0)


# ---------------------------------------------------------------- real file


def _csv_rows() -> list[list[str]]:
    with PAS_FILE.open(newline="") as f:
        return list(csv.reader(f))


def _key(date: str, borough: str, measure: str) -> tuple[pd.Timestamp, str, str]:
    d, m, y = (int(x) for x in date.split("/"))
    name = {"City of Westminster": "Westminster", "Richmond Upon Thames": "Richmond upon Thames"}.get(borough, borough)
    return pd.Timestamp(y, m, d), name, measure


@pytest.fixture(scope="module")
def pas() -> pd.DataFrame:
    return read_pas(PAS_FILE)


@pytest.mark.realdata
@needs_file
def test_real_structure(pas):
    assert list(pas.columns) == ["quarter_end", "borough", "measure", "proportion", "london"]
    assert len(pas) == 9312
    assert sorted(pas["borough"].unique()) == sorted(BOROUGHS)
    assert sorted(pas["measure"].unique()) == sorted(MEASURES)
    quarters = pd.DatetimeIndex(sorted(pas["quarter_end"].unique()))
    assert len(quarters) == 37
    assert quarters[0] == pd.Timestamp("2014-12-31") and quarters[-1] == pd.Timestamp("2023-12-31")
    assert (quarters == pd.date_range("2014-12-31", "2023-12-31", freq="QE")).all()
    assert pas.loc[pas["measure"] == "Trust MPS", "quarter_end"].min() == pd.Timestamp("2016-03-31")
    assert pas["proportion"].between(0, 1).all() and pas["london"].between(0, 1).all()
    assert not pas.duplicated(["quarter_end", "borough", "measure"]).any()
    assert (pas["borough"] == "Richmond upon Thames").sum() == 291


@pytest.mark.realdata
@needs_file
def test_real_every_value_matches_csv_module(pas):
    header, *rows = _csv_rows()
    assert header[:6] == ["Date", "Survey", "Borough", "Measure", "Proportion", "MPS"]
    expected = {_key(r[0], r[2], r[3]): (float(r[4].replace(",", ".")), float(r[5].replace(",", "."))) for r in rows}
    got = {
        (q, b, m): (p, london)
        for q, b, m, p, london in pas[["quarter_end", "borough", "measure", "proportion", "london"]].itertuples(
            index=False, name=None
        )
    }
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, abs=1e-12), k


@pytest.mark.realdata
@needs_file
def test_real_stray_trailing_cells_are_ignored(pas):
    header, *rows = _csv_rows()
    stray = [r for r in rows if any(c for c in r[6:])]
    assert len(stray) == 1 and stray[0][:4] == ["31/12/2022", "PAS", "Barking and Dagenham", "Trust MPS"]
    row = pas[
        (pas["quarter_end"] == pd.Timestamp("2022-12-31"))
        & (pas["borough"] == "Barking and Dagenham")
        & (pas["measure"] == "Trust MPS")
    ]
    assert row["proportion"].tolist() == [float(stray[0][4].replace(",", "."))]


@pytest.mark.realdata
@needs_file
def test_real_tower_hamlets_relied_on(pas):
    header, *rows = _csv_rows()
    by_csv = {
        r[0]: float(r[4].replace(",", ".")) for r in rows if r[2] == "Tower Hamlets" and r[3] == "Relied on to be there"
    }
    series = _series(pas, "Tower Hamlets", "Relied on to be there").set_index("quarter_end")
    assert len(series) == 37
    for date, ts in (("31/3/2017", "2017-03-31"), ("30/9/2020", "2020-09-30")):
        assert date in by_csv
        assert series.loc[pd.Timestamp(ts), "proportion"] == pytest.approx(by_csv[date], abs=1e-12)
    london = {r[0]: float(r[5].replace(",", ".")) for r in rows if r[3] == "Relied on to be there"}
    assert series.loc[pd.Timestamp("2020-09-30"), "london"] == pytest.approx(london["30/9/2020"])
    assert series["difference_pp"].to_numpy() == pytest.approx(
        ((series["proportion"] - series["london"]) * 100).to_numpy()
    )


@pytest.mark.realdata
@needs_file
def test_real_tower_hamlets_treat_fairly_latest(pas):
    header, *rows = _csv_rows()
    th = [r for r in rows if r[2] == "Tower Hamlets" and r[3] == "Treat everyone fairly"]
    latest = max(th, key=lambda r: _key(r[0], r[2], r[3])[0])
    series = _series(pas, "Tower Hamlets", "Treat everyone fairly")
    assert series["quarter_end"].iloc[-1] == _key(latest[0], latest[2], latest[3])[0] == pd.Timestamp("2023-12-31")
    assert series["proportion"].iloc[-1] == pytest.approx(float(latest[4].replace(",", ".")))


@pytest.mark.realdata
@needs_file
def test_real_values_behave_like_rolling_twelve_months(pas):
    """Quarter-on-quarter changes of an average of the last 4 quarters correlate at lag 4 (about -0.5), not lag 1."""
    wide = pas.assign(gap=pas["proportion"] - pas["london"]).pivot_table(
        index="quarter_end", columns=["borough", "measure"], values="gap"
    )
    acf = {}
    for lag in (1, 4):
        values = []
        for col in wide.columns:
            d = wide[col].dropna().diff().dropna().to_numpy()
            values.append((d[lag:] * d[:-lag]).mean() / (d * d).mean())
        acf[lag] = float(np.mean(values))
    assert abs(acf[1]) < 0.2  # independent quarterly samples would give about -0.5 here
    assert acf[4] < -0.3
