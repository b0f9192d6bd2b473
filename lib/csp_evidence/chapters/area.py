"""The police.uk chapter of a CSP outside the MPS boroughs: every category and ASB, a period against the one before,
outcomes, the comparison group the params chose, and where the area's force's other rows went.

One code path whatever the publisher: ``analysis.area_crime`` works on the tidy table (area, month, measure,
count); this module composes its numbers with the sentences and tables of the page. Chapters whose source exists
for London only say so in one line (LONDON_ONLY).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from csp_evidence.analysis import area_crime
from csp_evidence.core.params import Params
from csp_evidence.core.periods import period_months, period_title, previous_period
from csp_evidence.data import datasets, geography, policeuk_forces
from csp_evidence.report import tables
from csp_evidence.report.key_points import KeyPoint, checked, section_id
from csp_evidence.report.words import md, number

SOURCE_IDS = ("policeuk_reduced",)
# Chapters of the London packs whose source is published for the 32 MPS boroughs only, and what would fill them.
LONDON_ONLY = {
    "Hate crime": "the MPS hate crime strands and flags (London Datastore) cover the MPS boroughs only; the force's "
    "own hate crime figures (Home Office hate crime tables by force) would fill this chapter",
    "Confidence in the police": "the Public Attitude Survey is MOPAC's, of London residents only; the Crime Survey "
    "for England and Wales by force area would fill this chapter",
    "Violence and exploitation": "the MPS flags (domestic abuse, knife crime) are the Met's; the force's own flagged "
    "counts (Home Office data tables) would fill this chapter",
}


class AreaDataMissing(LookupError):
    """The police.uk months the area needs are not locked: the message says the command that fetches them."""


@dataclass(frozen=True)
class AreaSection:
    """Everything the page says about one area's police.uk figures."""

    area: geography.Area
    group: geography.ComparisonGroup
    headline: str
    previous: str
    changes: pd.DataFrame  # analysis.area_crime.period_changes
    against_group: pd.DataFrame | None  # analysis.area_crime.group_changes; None while a group force is not held
    group_forces_missing: tuple[str, ...]  # forces of the group's CSPs whose files the tables held lack
    elsewhere: pd.DataFrame  # analysis.area_crime.force_rows_elsewhere
    forces: dict[str, list[str]]  # forces held per month
    residents: int
    rates: pd.Series  # per 1,000 residents, the headline period, by measure
    rate_caveat: str
    citation: str = field(default="")

    @property
    def force(self) -> str:
        return policeuk_forces.area_forces(self.area)[0]


def area_section(params: Params) -> AreaSection:
    """The police.uk figures of the params' area: raises AreaDataMissing (saying what to fetch) until locked."""
    area, group = geography.params_area(params)
    if not params.headline_period:
        raise ValueError(f"params {params.name!r}: a police.uk area needs headline_period, e.g. '12 months to 2025-12'")
    headline, previous = params.headline_period, previous_period(params.headline_period)
    current, before = period_months(headline), period_months(previous)
    placed = datasets.area_street()
    months = {f"{m:%Y-%m}" for m in current.append(before)}
    if placed is None or not months <= set(placed["month"]):
        raise AreaDataMissing(
            f"the police.uk months {min(months)} to {max(months)} are not all locked: run `csp fetch --source "
            f"policeuk --params params/{params.name}.yml` (add `--from FOLDER` for files already downloaded)"
        )
    tidy = area_crime.tidy_counts(placed)
    if area.csp not in set(tidy["area"]):
        raise AreaDataMissing(f"no police.uk rows are placed in {area.name} in the months held")
    changes = area_crime.period_changes(tidy, area.csp, current, before)
    held = area_crime.forces_held(placed, current.append(before))
    needed = group_forces(group)
    missing = tuple(sorted({f for forces in held.values() for f in needed - set(forces)}))
    # a group is compared only when every force policing its CSPs is held for every month: otherwise the "rest of
    # the group" would be the rows the area's own force recorded there, not the group's crime
    against = None if missing else area_crime.group_changes(tidy, area.csp, group.csps, current, before)
    force = policeuk_forces.area_forces(area)[0]
    elsewhere = area_crime.force_rows_elsewhere(placed, force, area.csp, current)
    residents = datasets.csp_residents(area.csp)
    per, caveat = area_crime.rates(changes.set_index("measure")["current"], residents)
    return AreaSection(
        area=area,
        group=group,
        headline=headline,
        previous=previous,
        changes=changes,
        against_group=against,
        group_forces_missing=missing,
        elsewhere=elsewhere,
        forces=held,
        residents=residents,
        rates=per,
        rate_caveat=caveat,
        citation=datasets.citation(*SOURCE_IDS),
    )


def group_forces(group: geography.ComparisonGroup) -> set[str]:
    """The police.uk forces policing the CSPs of a comparison group."""
    return {policeuk_forces.force_slug(n) for n in geography.force_names(group.csps)}


CHANGES, GROUP, COVERAGE = (
    "Each category against the 12 months before",
    "Against the comparison group",
    "What the figures hold",
)  # the page's section headings, which the key points link to


def no_group_text(s: AreaSection) -> str:
    """Why the area is not set against its comparison group (empty when it is)."""
    if s.against_group is not None and s.against_group.set_index("measure").at[area_crime.ALL_CRIME, "rest_previous"]:
        return ""
    lacking = ", ".join(s.group_forces_missing) or "any other CSP of the group"
    return (
        f"No comparison with {s.group.name} ({s.group.kind.replace('_', ' ')}, the comparison chosen): the police.uk "
        f"files of {lacking} are not held."
    )


def key_points(s: AreaSection) -> list[KeyPoint]:
    """Three to five plain sentences for the top of the page, each linked to its evidence."""
    cur, prev = period_title(s.headline), period_title(s.previous)
    table = s.changes.set_index("measure")
    total, asb = table.loc[area_crime.ALL_CRIME], table.loc["Anti-social behaviour"]
    verdict = "beyond chance" if total["significant"] else "within chance"
    points = [
        KeyPoint(
            f"{s.area.name}: {number(total['current'])} crimes in {cur}, {total['pct_change']:+.1f}% on {prev} "
            f"({verdict}), and {number(asb['current'])} ASB incidents against {number(asb['previous'])}.",
            section_id(CHANGES),
        )
    ]
    moved = table[table["significant"]].drop(index=area_crime.ALL_CRIME, errors="ignore")
    if len(moved):
        named = ", ".join(f"{m.lower()} ({r['pct_change']:+.1f}%)" for m, r in moved.head(3).iterrows())
        points.append(KeyPoint(f"Changes beyond chance: {named}.", section_id(CHANGES)))
    missing = no_group_text(s)
    if missing:
        points.append(KeyPoint(missing, section_id(GROUP)))
    else:
        assert s.against_group is not None
        g = s.against_group.set_index("measure").loc[area_crime.ALL_CRIME]
        differs = "a different change, beyond chance" if g["relative_significant"] else "a change alike within chance"
        points.append(
            KeyPoint(
                f"The rest of {s.group.name} ({s.group.kind.replace('_', ' ')}): {g['rest_pct_change']:+.1f}% over the "
                f"same months, {differs}.",
                section_id(GROUP),
            )
        )
    points.append(
        KeyPoint(
            f"Of the crimes of {cur}, {total['share_charged']:.1f}% have led to a charge or summons so far and "
            f"{total['share_no_suspect']:.1f}% were closed with no suspect identified.",
            section_id(CHANGES),
        )
    )
    out = int(s.elsewhere["rows"].sum())
    if out:
        points.append(
            KeyPoint(
                f"{number(out)} rows in the files of {policeuk_forces.force_title(s.area)} for {cur} lie outside "
                f"{s.area.name} or have no place, and are not counted here.",
                section_id(COVERAGE),
            )
        )
    return checked(points[:5])


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def changes_table(s: AreaSection) -> tables.TableSpec:
    data = s.changes.copy()
    data["rate"] = data["measure"].map(s.rates)
    return tables.TableSpec(
        slug="area-change-on-previous-period",
        data=data,
        columns={
            "measure": "Measure",
            "previous": _first_up(period_title(s.previous)),
            "current": _first_up(period_title(s.headline)),
            "pct_change": "Change",
            "p_value": "p-value",
            "share_charged": "Charged or summonsed",
            "share_no_suspect": "No suspect identified",
            "rate": "Per 1,000 residents",
        },
        formats={
            "previous": tables.COUNT,
            "current": tables.COUNT,
            "pct_change": tables.PCT_CHANGE,
            "p_value": tables.P_VALUE,
            "share_charged": "{:.1f}%",
            "share_no_suspect": "{:.1f}%",
            "rate": tables.RATE,
        },
        caption=f"Police-recorded crime and ASB in {s.area.name}, {period_title(s.headline)} against "
        f"{period_title(s.previous)}: exact Poisson test of the change; outcome shares of the later period's crimes "
        "(police.uk's last outcome recorded); rates per 1,000 Census 2021 residents.",
        source=s.citation,
        period=f"{period_title(s.previous)} and {period_title(s.headline)}",
    )


def group_table(s: AreaSection) -> tables.TableSpec | None:
    """The area against the rest of its comparison group; None while the group's forces are not all held."""
    if s.against_group is None:
        return None
    data = s.against_group.merge(s.changes[["measure", "pct_change"]], on="measure")
    data["rank_text"] = [f"{r} of {n}" if r else "–" for r, n in zip(data["rank"], data["ranked"], strict=True)]
    return tables.TableSpec(
        slug="area-against-comparison-group",
        data=data,
        columns={
            "measure": "Measure",
            "pct_change": s.area.name,
            "rest_pct_change": f"Rest of {s.group.name}",
            "ratio_of_ratios": "Ratio of rate ratios",
            "relative_p_value": "p-value",
            "rank_text": "Rank of the change (1 = largest rise)",
        },
        formats={
            "pct_change": tables.PCT_CHANGE,
            "rest_pct_change": tables.PCT_CHANGE,
            "ratio_of_ratios": tables.RATIO,
            "relative_p_value": tables.P_VALUE,
        },
        caption=f"The change in {s.area.name} against the rest of its comparison group, {s.group.name} "
        f"({s.group.kind.replace('_', ' ')}, {len(s.group)} CSPs): the ratio of the two rate ratios (Poisson "
        "log-linear interaction) and the rank of the area's change; never a rank of rates.",
        source=s.citation,
        period=f"{period_title(s.previous)} and {period_title(s.headline)}",
    )


def coverage_text(s: AreaSection) -> str:
    """What the figures hold: the forces' files per month, the rows of the area's force counted elsewhere."""
    held = sorted({f for forces in s.forces.values() for f in forces})
    group_forces = "every force" if s.group.kind == "england_and_wales" else "the forces of the group"
    lines = [
        f"Every row is placed by its LSOA code through the ONS lookup of its vintage (2011 or 2021 LSOAs), whichever "
        f"force reported it. The police.uk tables held for these months have the street files of "
        f"{', '.join(held)}; the comparison needs {group_forces}.",
    ]
    if len(s.elsewhere):
        parts = ", ".join(f"{md(r.authority)} {number(r.rows)}" for r in s.elsewhere.head(8).itertuples())
        more = f" and {len(s.elsewhere) - 8} more authorities" if len(s.elsewhere) > 8 else ""
        lines.append(
            f"{number(int(s.elsewhere['rows'].sum()))} rows of the files of {md(policeuk_forces.force_title(s.area))} in "
            f"{period_title(s.headline)} are not counted in {md(s.area.name)}: {parts}{more}."
        )
    if s.rate_caveat:
        lines.append(s.rate_caveat)
    return "\n\n".join(lines)


def london_only_lines() -> list[str]:
    """One line for each chapter of the London packs whose source covers London only."""
    return [f"**{md(name)}**: not in this pack: {md(why)}." for name, why in LONDON_ONLY.items()]
