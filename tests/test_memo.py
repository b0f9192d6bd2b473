"""The memo of London-wide tables: one computation per table object, never a stale or cross-borough answer."""

from __future__ import annotations

import pandas as pd
import pytest

from csp_evidence.analysis import priorities, summaries
from csp_evidence.analysis.stats.change import financial_year_totals
from csp_evidence.core.memo import by_table_identity


def test_remembers_per_table_object_and_argument_values():
    calls = []

    @by_table_identity(maxsize=2)
    def total(table, column):
        calls.append(column)
        return table[column].sum()

    a = pd.DataFrame({"x": [1, 2], "y": [10, 20]})
    b = a.copy()  # equal values, another table: computed again, never assumed the same
    assert (total(a, "x"), total(a, "x"), total(a, "y"), total(b, "x")) == (3, 3, 30, 3)
    assert calls == ["x", "y", "x"]
    total(a, "x")  # dropped as the oldest once a third entry arrived
    assert calls == ["x", "y", "x", "x"]


def test_remembered_results_equal_fresh_ones_across_boroughs(crime):
    # Every borough's chapters ask for the same London-wide rows and totals; the remembered answers must be
    # exactly what a fresh computation gives, and a borough's table built on them must not change with the
    # order in which boroughs are built.
    measure = priorities.NEIGHBOURHOOD[5]  # drug trafficking (minor category)
    rows = measure.rows(crime)
    assert measure.rows(crime) is rows
    fresh = crime[crime["minor_category"].isin(measure.categories)]
    pd.testing.assert_frame_equal(rows, fresh)
    totals = financial_year_totals(rows)
    assert financial_year_totals(rows) is totals
    financial_year_totals.cache_clear()
    pd.testing.assert_frame_equal(financial_year_totals(rows), totals)

    first = summaries.measure_table(crime, "Tower Hamlets", "2019/20", priorities.NEIGHBOURHOOD)
    summaries.measure_table(crime, "Hackney", "2019/20", priorities.NEIGHBOURHOOD)
    summaries.select.cache_clear()
    financial_year_totals.cache_clear()
    again = summaries.measure_table(crime, "Tower Hamlets", "2019/20", priorities.NEIGHBOURHOOD)
    pd.testing.assert_frame_equal(first, again)


def test_categories_given_as_any_collection_select_the_same_rows(crime):
    import numpy as np

    expected = summaries.select(crime, ["Burglary", "Robbery"])
    for categories in (
        ("Burglary", "Robbery"),
        np.array(["Burglary", "Robbery"]),
        pd.Index(["Burglary", "Robbery"]),
        {"Burglary", "Robbery"},
    ):
        pd.testing.assert_frame_equal(summaries.select(crime, categories), expected)


def test_tables_inside_collections_are_computed_not_remembered():
    calls = []

    @by_table_identity()
    def first_sum(tables):
        calls.append(1)
        return tables[0]["x"].sum()

    for value in range(3):  # new tables each time: an id may be reused, a remembered answer would be stale
        assert first_sum([pd.DataFrame({"x": [value]})]) == value
    assert len(calls) == 3


def test_unknown_category_is_still_an_error_after_a_remembered_call(crime):
    summaries.select(crime, ["Burglary"])
    with pytest.raises(ValueError, match="unknown major category"):
        summaries.select(crime, ["Burglery"])
