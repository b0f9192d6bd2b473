"""Params that would pass a type check yet break the notebooks: each is one clear error naming the file."""

import pytest

from csp_evidence.core.params import ParamsError, load_params

BASE = """borough: Hackney
headline_year: "2019/20"
financial_years: ["2018/19", "2019/20"]
"""


def _params(tmp_path, text, name="run.yml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "extra, match",
    [
        ('title: "Hackney \\ud800 CSP"\n', r"parameter 'title' holds a lone surrogate"),
        ('borough: "\\udcff"\n', r"parameter 'borough' holds a lone surrogate"),
        ('"\\ud800x": 1\n', r"unknown parameter\(s\) '\ufffdx'"),
        ("small_number_threshold: 100000000000000000000000000\n", r"small_number_threshold must be from 0 to 1000"),
        ("small_number_threshold: 9223372036854775807\n", r"small_number_threshold must be from 0 to 1000"),
        ("small_number_threshold: -1\n", r"small_number_threshold must be from 0 to 1000"),
    ],
)
def test_params_that_would_break_a_notebook_are_refused(tmp_path, extra, match):
    text = BASE.replace("borough: Hackney\n", "") if extra.startswith("borough") else BASE
    path = _params(tmp_path, text + extra)
    with pytest.raises(ParamsError, match=match) as err:
        load_params(path)
    assert str(path) in str(err.value)
    str(err.value).encode("utf-8")  # the message itself can be printed


def test_a_lone_surrogate_in_a_financial_year_is_refused(tmp_path):
    path = _params(tmp_path, BASE.replace('"2018/19"', '"2018/1\\udc99"'))
    with pytest.raises(ParamsError, match=r"item 1 of parameter 'financial_years' holds a lone surrogate"):
        load_params(path)


def test_a_threshold_at_the_bound_is_accepted(tmp_path):
    assert load_params(_params(tmp_path, BASE + "small_number_threshold: 1000\n")).small_number_threshold == 1000


@pytest.mark.parametrize("opening, closing, depth", [("[", "]", 30_000), ("{a:", "}", 15_000)])
def test_a_params_file_nested_thirty_thousand_deep_is_one_error(tmp_path, opening, closing, depth):
    deep = opening * depth + "1" + closing * depth  # within the size limit; a RecursionError's traceback before
    path = _params(tmp_path, BASE + f"title: {deep}\n")
    with pytest.raises(ParamsError, match=r"run\.yml: line 4: values nested more than 10 deep"):
        load_params(path)


def test_a_params_file_whose_name_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / (b"run-\xff.yml").decode("utf-8", "surrogateescape")
    try:
        path.write_text(BASE)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system does not take a file name that is not UTF-8")
    with pytest.raises(ParamsError, match="this file name is not UTF-8 text"):
        load_params(path)
