"""The boundary reader (shapefile, MapInfo) and the IMD 2019 reader: on files written here and on the real ones."""

import pandas as pd
import pytest
import shapely
from conftest import MIRROR

from csp_evidence.data.readers.boundaries import read_boundaries
from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.readers.imd import read_imd2019

GEO = MIRROR / "geo"


def _shapefile(tmp_path, rows):
    """A small shapefile written with GDAL: rows of (code, name, parent, geometry)."""
    import numpy as np
    import pyogrio

    path = tmp_path / "areas.shp"
    fields = {
        "CODE": np.array([r[0] for r in rows], dtype=object),
        "NAME": np.array([r[1] for r in rows], dtype=object),
        "LAD": np.array([r[2] for r in rows], dtype=object),
    }
    geometry = np.array([shapely.to_wkb(r[3]) for r in rows], dtype=object)
    pyogrio.raw.write(
        path,
        geometry,
        list(fields.values()),
        list(fields),
        geometry_type="Polygon",
        driver="ESRI Shapefile",
        crs="EPSG:27700",
    )
    return path


def _square(x):
    return shapely.box(x, 0, x + 1, 1)


def test_reads_codes_names_and_polygons(tmp_path):
    path = _shapefile(
        tmp_path, [("E05000001", "North", "E09000030", _square(0)), ("E05000002", "South", "E09000030", _square(1))]
    )
    table = read_boundaries(path, "CODE", "NAME", "LAD", r"E05\d{6}")
    assert table["code"].tolist() == ["E05000001", "E05000002"] and table["name"].tolist() == ["North", "South"]
    assert shapely.from_wkb(table["wkb"].iloc[1]).area == pytest.approx(1.0)


@pytest.mark.parametrize(
    "rows, fields, message",
    [
        ([("E0500000", "North", "E09000030", _square(0))], ("CODE", "NAME", "LAD"), "feature 1: code 'E0500000'"),
        (
            [("E05000001", "A", "E09000030", _square(0)), ("E05000001", "B", "E09000030", _square(1))],
            ("CODE", "NAME", "LAD"),
            "more than one feature",
        ),
        ([("E05000001", "A", "E09000030", _square(0))], ("CODE", "WARD", "LAD"), "missing field 'WARD'"),
    ],
)
def test_damage_is_named(tmp_path, rows, fields, message):
    with pytest.raises(SourceFormatError, match=message) as err:
        read_boundaries(_shapefile(tmp_path, rows), *fields, r"E05\d{6}")
    assert "areas.shp" in str(err.value)


def test_not_a_boundary_file(tmp_path):
    path = tmp_path / "broken.shp"
    path.write_bytes(b"not a shapefile")
    with pytest.raises(SourceFormatError, match="cannot be read as a boundary file"):
        read_boundaries(path, "CODE", "NAME", "LAD", r"E05\d{6}")


def _imd(tmp_path, rows):
    path = tmp_path / "imd.xlsx"
    frame = pd.DataFrame(
        rows,
        columns=[
            "LSOA code (2011)",
            "LSOA name (2011)",
            "Local Authority District code (2019)",
            "Local Authority District name (2019)",
            "Index of Multiple Deprivation (IMD) Rank",
            "Index of Multiple Deprivation (IMD) Decile",
        ],
    )
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"x": []}).to_excel(writer, sheet_name="Notes")
        frame.to_excel(writer, sheet_name="IMD2019", index=False)
    return path


def _imd_rows(n=20):
    return [(f"E010000{i:02d}", f"A {i}", "E09000030", "Tower Hamlets", i, -(-10 * i // n)) for i in range(1, n + 1)]


def test_imd_by_hand(tmp_path):
    table = read_imd2019(_imd(tmp_path, _imd_rows()))
    assert table["decile"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10]


def test_imd_damage_is_named(tmp_path):
    rows = _imd_rows()
    rows[4] = (*rows[4][:5], 9)  # rank 5 of 20 is in decile 3
    with pytest.raises(SourceFormatError, match="sheet 'IMD2019', row 6.*decile 9 does not match rank 5"):
        read_imd2019(_imd(tmp_path, rows))
    rows = _imd_rows()
    rows[0] = ("W01000001", *rows[0][1:])
    with pytest.raises(SourceFormatError, match="row 2.*not a 2011 LSOA code in England"):
        read_imd2019(_imd(tmp_path, rows))


@pytest.mark.realdata
def test_real_boundaries():
    wards = read_boundaries(
        GEO / "London-wards-2018/London-wards-2018_Mapinfo/London_Ward_CityMerged.tab",
        "GSS_CODE",
        "NAME",
        "LAGSSCODE",
        r"E05\d{6}",
    )
    assert len(wards) == 633  # SOURCES.md: 633 wards, the City's 25 merged
    tower = wards[wards["parent"] == "E09000030"]
    assert sorted(tower["code"]) == [f"E050093{n}" for n in range(17, 37)]  # the 20 wards of the MPS files
    lsoas = read_boundaries(
        GEO / "london-2021-lsoa-gen20/london-2021-lsoa-gen20.shp", "LSOA21CD", "LSOA21NM", "LAD22CD", r"E01\d{6}"
    )
    assert len(lsoas) == 4994 and (lsoas["parent"] == "E09000030").sum() == 169
    # Tower Hamlets' 2021 LSOAs lie inside its wards (to within their 20 m generalisation); the LSOAs are clipped to
    # the river bank while the wards run to mid-Thames, so they cover somewhat less
    wards_union = shapely.union_all(shapely.from_wkb(tower["wkb"]))
    lsoa_union = shapely.union_all(shapely.from_wkb(lsoas.loc[lsoas["parent"] == "E09000030", "wkb"]))
    assert lsoa_union.intersection(wards_union).area / lsoa_union.area > 0.99
    assert 0.85 < lsoa_union.area / wards_union.area < 1.0


@pytest.mark.realdata
def test_real_imd():
    table = read_imd2019(GEO / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.xlsx")
    assert len(table) == 32_844 and (table["lad19"] == "E09000030").sum() == 144  # SOURCES.md
    assert table["decile"].value_counts().sort_index().tolist() == [
        3284,
        3284,
        3285,
        3284,
        3285,
        3284,
        3284,
        3285,
        3284,
        3285,
    ]
