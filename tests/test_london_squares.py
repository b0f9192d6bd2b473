"""The London squares: 32 equal squares, one per MPS borough, none on another, each beside a neighbour."""

import pytest

from csp_evidence.data import geo

pytestmark = pytest.mark.realdata  # the borough list comes from the ONS lookup in the mirror


def test_one_square_per_borough_and_the_names_match_the_borough_list():
    squares = geo.london_squares()
    assert len(squares) == 32
    assert sorted(squares) == geo.mps_boroughs()


def test_no_two_squares_overlap_and_the_city_keeps_its_own():
    cells = list(geo.LONDON_SQUARES.values())
    assert len(set(cells)) == len(cells)
    assert geo.CITY_SQUARE not in cells


def test_every_square_touches_another_and_the_grid_keeps_the_map_shape():
    cells = set(geo.LONDON_SQUARES.values()) | {geo.CITY_SQUARE}
    for name, (r, c) in geo.LONDON_SQUARES.items():
        assert {(r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)} & cells, f"{name} touches no other square"
    sq = geo.LONDON_SQUARES
    assert sq["Enfield"][0] == 0 and sq["Sutton"][0] == max(r for r, _ in sq.values())  # north at the top
    assert sq["Hillingdon"][1] == 0 and sq["Havering"][1] == max(c for _, c in sq.values())  # west on the left
    assert sq["Westminster"][0] == sq["Tower Hamlets"][0] and sq["Westminster"][1] < sq["Tower Hamlets"][1]


def test_a_grid_that_disagrees_with_the_borough_list_is_refused(monkeypatch):
    monkeypatch.setitem(geo.LONDON_SQUARES, "Kingston", (6, 2))
    monkeypatch.delitem(geo.LONDON_SQUARES, "Kingston upon Thames")
    with pytest.raises(ValueError, match="missing \\['Kingston upon Thames'\\], not boroughs \\['Kingston'\\]"):
        geo.london_squares()
