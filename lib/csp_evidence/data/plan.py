"""A CSP plan's knowledge, from the reviewed, committed files in data/plan/ (three per plan):

- ``<plan>.csv``: the figures the plan quotes, one row each, citing the plan's section and words, and naming what
  each figure measures: the recompute `kind` (`KINDS`), the pack's `measure`, the period `reading` and its
  `alternative`, the `source` (a registered source id), so the plan audit and every chapter that sets a plan
  figure beside the data recompute it the same way (``analysis.plan_audit``);
- ``<plan>-assumptions.md``: the assumptions and caveats log: each reading the rows make (`A1`, `A2` ...), rated
  and reviewed, with the note the audit shows beside the figure (`assumptions`);
- ``<plan>.yml``: what else the plan sets: its public confidence target, the names it uses (its drug operation).

A borough with no plan files has no plan figures: the audit recomputes the reference plan's rows
(``REFERENCE_BOROUGH``'s) for it with an empty plan column, and for its settings the pack falls back to the
reference plan, and says whose they are. Every file is checked on reading; a malformed one is refused with one
error naming the file, the row and the column (`PlanFileError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from csp_evidence.core.paths import plan_dir
from csp_evidence.data.sources import source

COLUMNS = ["borough", "figure_id", "description", "plan_value", "unit", "period", "plan_section", "plan_quote"]
REFERENCE_BOROUGH = "Tower Hamlets"  # the plan the pack was built around

# What a row names besides the plan's own words: how the pack recomputes it. `kind` and `reading` are required;
# the others may be left empty (`label` then repeats `description`).
READING_COLUMNS = ["kind", "measure", "reading", "alternative", "source", "label", "definition", "assumptions"]
CAVEAT_COLUMNS = ["missing", "proxy"]
FINANCIAL_YEAR = r"\d{4}/\d{2}"
# The recompute kinds, the unit the audit gives each and the form of its `reading` (a regular expression).
KINDS: dict[str, tuple[str, str]] = {
    "count": ("offences", FINANCIAL_YEAR),  # offences in a financial year (and as first published)
    "rank": ("rank", FINANCIAL_YEAR),  # rank of 32 boroughs by offences in a financial year (1 = most)
    "change": ("per cent change", FINANCIAL_YEAR),  # per cent change in a financial year on the year before
    "survey share": ("per cent", r"\d{4}-\d{2}"),  # a survey measure, per cent agreeing, quarter ending that month
    "rate": ("per cent", r".+"),  # a proportion of a cohort (reading: the cohort, e.g. 'Apr 2020 to Mar 2021')
    "rate change": ("per cent change", r".+"),  # relative change of a cohort's rate on the cohort before
    "population": ("residents", r"\d{4}"),  # mid-year population estimate (reading: the year)
    "not open": ("per cent change", r".*"),  # no open data holds it: `missing` says what is lacking
}
ALTERNATIVE = re.compile(rf"(?:(?P<measure>.+) in )?(?P<year>{FINANCIAL_YEAR})")
ASSUMPTION_ID = re.compile(r"A\d+")


class PlanFileError(ValueError):
    """A plan file in data/plan/ is malformed; the message names the file and what is wrong."""


def plan_files() -> list[Path]:
    """Every file a plan's knowledge is read from (the figure tables, their assumptions logs and the settings), in
    a stable order: what a run's notebooks depend on besides the data and the code."""
    return sorted([*plan_dir().glob("*.csv"), *plan_dir().glob("*-assumptions.md"), *plan_dir().glob("*.yml")])


@dataclass(frozen=True)
class Assumption:
    """One entry of a plan's assumptions and caveats log."""

    id: str
    title: str
    figures: tuple[str, ...]
    quality: str
    impact: str
    note: str


def assumptions_path(table: Path) -> Path:
    """The assumptions and caveats log beside a plan table: `<plan>-assumptions.md`."""
    return table.with_name(f"{table.stem}-assumptions.md")


def assumptions(table: Path) -> dict[str, Assumption]:
    """The entries of the log beside a plan table, by id (empty when the plan has no log).

    An entry is a heading ``### A<n>: <title>`` followed by the list items ``- Figures:``, ``- Quality:``,
    ``- Impact:`` and ``- Note:`` (the note the audit shows, on one line)."""
    path = assumptions_path(table)
    if not path.is_file():
        return {}
    found: dict[str, Assumption] = {}
    entries = re.split(r"^### ", path.read_text(encoding="utf-8"), flags=re.M)[1:]
    for entry in entries:
        heading, _, body = entry.partition("\n")
        match = re.fullmatch(r"(A\d+): (.+)", heading.strip())
        if not match:
            raise PlanFileError(f"{path}: heading '### {heading.strip()}' is not 'A<n>: <title>'")
        items = dict(re.findall(r"^- (Figures|Quality|Impact|Note): (.+)$", body, flags=re.M))
        lacking = [k for k in ("Figures", "Quality", "Impact", "Note") if k not in items]
        if lacking:
            raise PlanFileError(f"{path}: assumption {match.group(1)} lacks {', '.join(lacking)}")
        if match.group(1) in found:
            raise PlanFileError(f"{path}: assumption {match.group(1)} appears twice")
        found[match.group(1)] = Assumption(
            match.group(1),
            match.group(2),
            tuple(f.strip() for f in items["Figures"].split(",")),
            items["Quality"].strip(),
            items["Impact"].strip(),
            items["Note"].strip(),
        )
    return found


def _ids(text: str) -> list[str]:
    return [part.strip() for part in str(text).split(";") if part.strip()]


def _check_row(path: Path, line: int, row: pd.Series, log: dict[str, Assumption]) -> None:
    """Refuse a row that does not say what it measures, naming the file, the line and the column."""
    where = f"{path}, line {line} ({row['figure_id']})"
    kind = row["kind"]
    if kind not in KINDS:
        raise PlanFileError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if not re.fullmatch(KINDS[kind][1], row["reading"]):
        raise PlanFileError(f"{where}: reading {row['reading']!r} is not a reading of a {kind} ({KINDS[kind][1]})")
    for alt in _ids(row["alternative"]):
        if not ALTERNATIVE.fullmatch(alt):
            raise PlanFileError(f"{where}: alternative {alt!r} is not 'YYYY/YY' or '<measure> in YYYY/YY'")
    if kind == "not open" and not row["missing"]:
        raise PlanFileError(f"{where}: a 'not open' figure says in `missing` what data it lacks")
    if kind != "not open":
        if not row["source"]:
            raise PlanFileError(f"{where}: `source` is empty; name the registered source the figure is read from")
        try:
            source(row["source"])
        except KeyError as exc:
            raise PlanFileError(f"{where}: {exc.args[0]}") from None
    if row["proxy"] not in ("", "yes"):
        raise PlanFileError(f"{where}: proxy is 'yes' or empty, not {row['proxy']!r}")
    if row["proxy"] and not row["missing"]:
        raise PlanFileError(f"{where}: a proxy says in `missing` what the plan's own measure would need")
    for aid in _ids(row["assumptions"]):
        if aid not in log:
            raise PlanFileError(f"{where}: assumption {aid} is not in {assumptions_path(path)}")
    if pd.isna(row["plan_value"]):
        raise PlanFileError(f"{where}: plan_value is empty; a plan row quotes a number")


def read_plan_table(path: Path) -> pd.DataFrame:
    """One plan table, checked (`PlanFileError` names the file, line and column), with ``plan_file`` and ``note``
    (the notes of the assumptions it names, from the log beside it)."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")  # Excel writes a BOM
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"{path}: not a readable CSV ({exc})") from None
    missing = [c for c in [*COLUMNS, "kind", "reading"] if c not in table.columns]
    if missing:
        raise PlanFileError(f"{path}: plan table lacks column(s) {missing}")
    if table["figure_id"].duplicated().any():
        raise PlanFileError(
            f"{path}: figure_id {table.loc[table['figure_id'].duplicated(), 'figure_id'].iloc[0]!r} repeated"
        )
    for column in [*READING_COLUMNS, *CAVEAT_COLUMNS]:
        if column not in table.columns:
            table[column] = ""
        table[column] = table[column].str.strip()
    table["label"] = table["label"].where(table["label"] != "", table["description"])
    values = pd.to_numeric(table["plan_value"].replace("", None), errors="coerce")
    bad = values.isna() & (table["plan_value"] != "")
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0])
        raise PlanFileError(
            f"{path}, line {line + 2} ({table['figure_id'].iloc[line]}): plan_value "
            f"{table['plan_value'].iloc[line]!r} is not a number"
        )
    table["plan_value"] = values.astype(float)
    log = assumptions(path)
    for i, row in table.iterrows():
        _check_row(path, int(str(i)) + 2, row, log)
    table["note"] = [" ".join(log[a].note for a in _ids(ids)) for ids in table["assumptions"]]
    table["plan_file"] = path.name
    return table


def _all_plans() -> pd.DataFrame:
    frames = [read_plan_table(path) for path in sorted(plan_dir().glob("*.csv"))]
    if not frames:
        columns = [*COLUMNS, *READING_COLUMNS, *CAVEAT_COLUMNS, "note", "plan_file"]
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    twice = table[table.duplicated(["borough", "figure_id"], keep=False)]
    if len(twice):
        first = twice.iloc[0]
        files = sorted(twice.loc[twice["figure_id"] == first["figure_id"], "plan_file"])
        raise PlanFileError(
            f"{plan_dir()}: {first['borough']}'s figure {first['figure_id']!r} is in more than one plan table "
            f"({', '.join(files)}); a borough's figure ids are unique across its plans"
        )
    return table


def plan_figures(borough: str) -> pd.DataFrame:
    """The plan figures quoted for a borough, indexed by figure_id (empty when no plan table names it).

    Columns: COLUMNS (but figure_id), READING_COLUMNS, CAVEAT_COLUMNS, ``note`` (from the assumptions log) and
    ``plan_file``.
    """
    table = _all_plans()
    return table[table["borough"] == borough].set_index("figure_id")


def plan_definitions(borough: str) -> pd.DataFrame:
    """What the audit recomputes for a borough: its own plan's rows, else the reference plan's rows with no plan
    value, section or quote (the figures ready to set beside its own plan). Columns as `plan_figures`."""
    own = plan_figures(borough)
    if len(own) or borough == REFERENCE_BOROUGH:
        return own
    reference = plan_figures(REFERENCE_BOROUGH).copy()
    reference["plan_value"] = float("nan")
    reference[["plan_section", "plan_quote"]] = ""
    return reference


@dataclass(frozen=True)
class ConfidenceTarget:
    """A plan's target for a Public Attitude Survey measure: `uplift_points` above the baseline quarter's value
    by the end quarter. `borough` names whose plan set it."""

    borough: str
    measure: str
    baseline_quarter: str
    end_quarter: str
    uplift_points: float
    note: str = ""  # the notes of the assumptions the reading makes (`assumptions` in the settings: log ids)


def plan_settings(borough: str) -> dict:
    """The settings of the plan of `borough` (its ``.yml`` in data/plan/), else the reference plan's; ``_path``
    is the file they were read from."""
    found = {}
    for path in sorted(plan_dir().glob("*.yml")):
        try:
            settings = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise PlanFileError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(settings, dict) or not isinstance(settings.get("borough"), str):
            raise PlanFileError(f"{path}: a plan settings file is a mapping with a `borough` name")
        found[settings["borough"]] = {**settings, "_path": path}
    return found.get(borough) or found.get(REFERENCE_BOROUGH, {})


def confidence_target(borough: str) -> ConfidenceTarget:
    """The public confidence target of the borough's plan (or the reference plan's)."""
    settings = plan_settings(borough)
    target = settings.get("confidence_target")
    if not isinstance(target, dict):
        raise PlanFileError(f"no plan in {plan_dir()} sets a confidence_target (measure, quarters, uplift_points)")
    log = assumptions(settings["_path"].with_suffix(".csv"))
    notes = []
    for aid in _ids(target.get("assumptions", "")):
        if aid not in log:
            raise PlanFileError(f"{settings['_path']}: assumption {aid} of the confidence_target is not in its log")
        notes.append(log[aid].note)
    try:
        return ConfidenceTarget(
            settings["borough"],
            str(target["measure"]),
            str(target["baseline_quarter"]),
            str(target["end_quarter"]),
            float(target["uplift_points"]),
            " ".join(notes),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"the confidence_target of {settings['borough']}'s plan is incomplete ({exc})") from None


def drug_operation(borough: str) -> str | None:
    """The drug operation the borough's own plan credits with enforcement, or None."""
    settings = plan_settings(borough)
    return settings.get("drug_operation") if settings.get("borough") == borough else None


def plan_years(borough: str) -> tuple[str, ...]:
    """The financial years the borough's plan (or the reference plan) runs over, in order, e.g. 2021/22 to 2023/24."""
    settings = plan_settings(borough)
    years = settings.get("plan_years")
    if not isinstance(years, list) or not years or not all(isinstance(y, str) for y in years):
        raise PlanFileError(
            f"the plan settings of {settings.get('borough', borough)!r} in {plan_dir()} need plan_years: a list of "
            "financial years like ['2021/22', '2022/23', '2023/24']"
        )
    return tuple(years)
