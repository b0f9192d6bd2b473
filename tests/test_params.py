"""Params files: checked on load, with errors that name the file and the parameter."""

import pandas as pd
import pytest
from conftest import ROOT

from csp_evidence.core.params import ParamsError, check_against_data, load_params

BASE = """borough: Hackney
headline_year: "2019/20"
financial_years: ["2018/19", "2019/20"]
"""
MONTHS = pd.date_range("2010-04-01", "2024-01-01", freq="MS")
BOROUGHS = ["Hackney", "Tower Hamlets"]


def _params(tmp_path, text, name="run.yml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_committed_params_file_loads():
    for path in (ROOT / "params").glob("*.yml"):
        params = load_params(path)
        assert params.name == path.stem and params.headline_year in params.financial_years


def test_default_params_are_tower_hamlets():
    params = load_params(ROOT / "params" / "tower-hamlets.yml")
    assert params.borough == "Tower Hamlets" and params.headline_year == "2019/20"
    assert params.notebook_parameters()["run_name"] == "tower-hamlets"


@pytest.mark.parametrize(
    "extra, match",
    [
        ("colour: blue\n", r"unknown parameter\(s\) colour; allowed: borough"),
        ("small_number_threshold: ten\n", r"'small_number_threshold' must be a whole number, got 'ten'"),
        ("small_number_threshold: true\n", r"'small_number_threshold' must be a whole number"),
        ("covid_start: March\n", r"covid_start must be a month 'YYYY-MM'"),
    ],
)
def test_bad_keys_and_types_are_named(tmp_path, extra, match):
    with pytest.raises(ParamsError, match=match) as err:
        load_params(_params(tmp_path, BASE + extra))
    assert "run.yml" in str(err.value)


def test_missing_and_malformed_values(tmp_path):
    with pytest.raises(ParamsError, match="missing required parameter"):
        load_params(_params(tmp_path, "borough: Hackney\n"))
    with pytest.raises(ParamsError, match="YYYY/YY"):
        load_params(_params(tmp_path, BASE.replace('"2019/20"', '"2019-20"', 1)))
    with pytest.raises(ParamsError, match="must be one of financial_years"):
        load_params(_params(tmp_path, BASE.replace('"2019/20"', '"2017/18"', 1)))
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(_params(tmp_path, "borough: [unclosed\n"))


def test_repeated_financial_year_is_named(tmp_path):
    text = BASE.replace('["2018/19", "2019/20"]', '["2019/20", "2018/19", "2019/20"]')
    with pytest.raises(ParamsError, match=r"run\.yml: parameter 'financial_years' lists 2019/20 more than once"):
        load_params(_params(tmp_path, text))


@pytest.mark.parametrize("name", ["failed.yml", "london.yml", "London.yml", ".hidden.yml", "_stage.yml"])
def test_run_names_kept_for_the_outputs_folder_are_refused(tmp_path, name):
    # A run is published to outputs/<file name>/: these would overwrite kept failed runs or the London index.
    with pytest.raises(ParamsError, match=rf"{name}: the run is named after its file.*rename the file"):
        load_params(_params(tmp_path, BASE, name))


def test_unknown_borough_lists_valid_names(tmp_path):
    params = load_params(_params(tmp_path, BASE.replace("Hackney", "Gotham")))
    with pytest.raises(ParamsError, match=r"unknown borough 'Gotham'; valid boroughs: Hackney, Tower Hamlets"):
        check_against_data(params, MONTHS, "MPS recorded crime", BOROUGHS)


def test_period_outside_data_states_the_data_range(tmp_path):
    params = load_params(_params(tmp_path, BASE.replace('["2018/19", "2019/20"]', '["2019/20", "2024/25"]')))
    with pytest.raises(
        ParamsError, match=r"financial year 2024/25 .* outside the data: MPS recorded crime covers 2010-04 to 2024-01"
    ):
        check_against_data(params, MONTHS, "MPS recorded crime", BOROUGHS)


def test_year_before_the_headline_must_be_in_the_data(tmp_path):
    text = BASE.replace('headline_year: "2019/20"', 'headline_year: "2010/11"').replace(
        '["2018/19", "2019/20"]', '["2010/11"]'
    )
    params = load_params(_params(tmp_path, text))
    with pytest.raises(ParamsError, match=r"financial year 2009/10 .* outside the data"):
        check_against_data(params, MONTHS, "MPS recorded crime", BOROUGHS)


def test_years_before_the_population_estimates_are_named(tmp_path):
    params = load_params(_params(tmp_path, BASE.replace('["2018/19", "2019/20"]', '["2010/11", "2019/20"]')))
    with pytest.raises(ParamsError, match=r"2010/11 starts before the population estimates \(mid-2011 to mid-2023\)"):
        check_against_data(params, MONTHS, "MPS recorded crime", BOROUGHS, population_years=(2011, 2023))


def test_covid_start_needs_five_pre_pandemic_years(tmp_path):
    params = load_params(_params(tmp_path, BASE + 'covid_start: "2014-03"\n'))
    with pytest.raises(ParamsError, match="covid_start 2014-03 needs 5 years of data before it"):
        check_against_data(params, MONTHS, "MPS recorded crime", BOROUGHS)


def test_cli_prints_an_error_as_written_not_as_markup(tmp_path, capsys):
    from csp_evidence import cli

    path = _params(tmp_path, BASE + "'df[cols]': 1\n'[/]': 2\n")
    assert cli.main(["run", "--params", str(path)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "unknown parameter(s) [/], df[cols]; allowed" in err
