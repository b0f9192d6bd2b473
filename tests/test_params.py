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
        assert params.name == path.stem
        if params.headline_period:  # a police.uk area's params: a headline period among its periods
            assert params.area and params.headline_period in params.periods
        else:
            assert params.headline_year in params.financial_years


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


@pytest.mark.parametrize("name", ["failed.yml", "london.yml", "London.yml", "scratch.yml", ".hidden.yml", "_stage.yml"])
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


BOMB = """borough: Hackney
headline_year: "2019/20"
a: &a ["2019/20", "2019/20", "2019/20", "2019/20", "2019/20", "2019/20", "2019/20", "2019/20", "2019/20"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
financial_years: [*g, *g, *g, *g, *g, *g, *g, *g, *g]
"""


def _load_in_child(path, seconds=30):
    """load_params in a child process limited to 1 GiB and `seconds`: a YAML bomb cannot take the machine."""
    import resource
    import subprocess
    import sys

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    code = (
        "import sys\nfrom csp_evidence.core.params import ParamsError, load_params\n"
        "try:\n    load_params(sys.argv[1])\nexcept ParamsError as exc:\n    print(exc)\n    sys.exit(3)\n"
    )
    try:
        return subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=seconds, preexec_fn=limit
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"load_params took over {seconds} s on {path.name}")


def test_a_yaml_bomb_is_refused_at_once_naming_the_alias(tmp_path):
    path = _params(tmp_path, BOMB)
    assert path.stat().st_size < 700  # a few hundred bytes, some 43 million years once expanded
    done = _load_in_child(path)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "run.yml: line 4: a YAML alias (*a)" in done.stdout and "write each value out" in done.stdout


def test_aliases_and_repeated_keys_are_refused_naming_them(tmp_path):
    with pytest.raises(ParamsError, match=r"run\.yml: line 5: a YAML alias \(\*y\)"):
        load_params(_params(tmp_path, BASE + 'x: &y "2019/20"\nheadline_year: *y\n'))
    with pytest.raises(ParamsError, match=r"run\.yml: parameter 'borough' is given twice \(lines 1 and 4\)"):
        load_params(_params(tmp_path, BASE + "borough: Camden\n"))


@pytest.mark.parametrize(
    "financial_years, match",
    [
        ('[[2019, 2020], "2019/20"]', r"'financial_years' item 1 must be a financial year as text.*got a list of 2"),
        ('[2019, "2019/20"]', r"'financial_years' item 1 must be a financial year as text.*got 2019"),
        (f'["{"9" * 10_000}", "2019/20"]', r"item 1 must be a financial year as text.*\(10000 characters\)"),
        ("[" + ", ".join(['"2019/20"'] * 60) + "]", r"'financial_years' lists 60 years; at most 50"),
    ],
)
def test_values_are_checked_for_type_and_size_before_they_are_quoted(tmp_path, financial_years, match):
    text = BASE.replace('["2018/19", "2019/20"]', financial_years)
    with pytest.raises(ParamsError, match=match) as err:
        load_params(_params(tmp_path, text))
    assert len(str(err.value)) < 400


def test_an_unreadable_params_file_is_a_message_naming_it(tmp_path):
    not_utf8 = tmp_path / "latin1.yml"
    not_utf8.write_bytes(BASE.replace("Hackney", "Hackn\xe9y").encode("latin-1"))
    with pytest.raises(ParamsError, match=r"latin1\.yml: not UTF-8 text \(byte 14 is b'\\xe9'\); save it as UTF-8"):
        load_params(not_utf8)
    too_long = tmp_path / ("x" * 300 + ".yml")  # longer than a file name can be
    with pytest.raises(ParamsError, match=rf"params file {too_long} cannot be read \(File name too long\)"):
        load_params(too_long)
    long_name = _params(tmp_path, BASE, name="y" * 150 + ".yml")  # a file, but its run's lock name would not fit
    with pytest.raises(ParamsError, match=r"a name of 150 characters is too long for the outputs folder"):
        load_params(long_name)


def test_latest_series_defaults_to_connect_and_is_checked(tmp_path):
    assert load_params(_params(tmp_path, BASE)).latest_series == "connect"
    params = load_params(_params(tmp_path, BASE + "latest_series: cris\n"))
    assert params.latest_series == "cris" and params.notebook_parameters()["latest_series"] == "cris"
    with pytest.raises(
        ParamsError, match=r"run\.yml: parameter 'latest_series' must be one of connect, cris .*got 'CONNECT'"
    ):
        load_params(_params(tmp_path, BASE + "latest_series: CONNECT\n"))
    with pytest.raises(ParamsError, match=r"'latest_series' must be text, got 3"):
        load_params(_params(tmp_path, BASE + "latest_series: 3\n"))
