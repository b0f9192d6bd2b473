"""The crime measures of each CSP priority, defined once over the MPS major and minor categories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from csp_evidence.core import memo

CATEGORY_LEVELS = ("major_category", "minor_category")


@memo.by_table_identity()
def select(crime: pd.DataFrame, categories: Sequence[str] | None = None, level: str = "major_category") -> pd.DataFrame:
    """Rows of the given categories (all when None); an unknown category is an error that lists the valid ones.

    Remembered per table and categories (``memo``): every borough's chapters select the same London-wide rows.
    """
    if level not in CATEGORY_LEVELS:
        raise ValueError(f"level must be one of {CATEGORY_LEVELS}, got {level!r}")
    if categories is None:
        return crime
    valid = set(crime[level].unique())
    unknown = [c for c in categories if c not in valid]
    if unknown:
        raise ValueError(f"unknown {level.replace('_', ' ')} {unknown}; valid: {', '.join(sorted(valid))}")
    return crime[crime[level].isin(categories)]


@dataclass(frozen=True)
class Measure:
    """A named set of MPS categories: all at the major or all at the minor level."""

    name: str
    level: str  # 'major_category' or 'minor_category'
    categories: tuple[str, ...]
    safeguarding: bool = False  # small counts are flagged and never plotted as trends
    counts_only: bool = (
        False  # always too few to test, rank by rate or model (homicide): counts only, whatever the year
    )
    # mostly found by police activity (drugs, weapons possession): a count measures enforcement as much as crime,
    # so a rise or fall is shown but not judged as better or worse
    police_found: bool = False

    def rows(self, crime: pd.DataFrame) -> pd.DataFrame:
        """The rows of the tidy crime table this measure counts; an unknown category is an error naming the measure."""
        try:
            return select(crime, self.categories, self.level)
        except ValueError as exc:
            raise ValueError(f"measure {self.name!r}: {exc}") from None


def _major(name: str, *categories: str, **kw) -> Measure:
    return Measure(name, "major_category", categories or (name,), **kw)


def _minor(name: str, *categories: str, **kw) -> Measure:
    return Measure(name, "minor_category", categories or (name,), **kw)


TOTAL = Measure("All recorded crime", "major_category", ())

NEIGHBOURHOOD = (
    _major("Burglary"),
    _major("Robbery"),
    _major("Theft"),
    _major("Vehicle offences", "Vehicle Offences"),
    _major("Criminal damage and arson", "Arson and Criminal Damage"),
    _minor("Drug trafficking", "Drug Trafficking", police_found=True),
    _minor("Possession of drugs", "Possession of Drugs", police_found=True),
    _major("Public order offences", "Public Order Offences"),
)

VIOLENCE = (
    _major("Violence against the person", "Violence Against the Person"),
    _minor("Violence with injury", "Violence with Injury"),
    _minor("Violence without injury", "Violence without Injury"),
    _minor("Homicide", "Homicide", safeguarding=True),
    _major("Sexual offences", "Sexual Offences", safeguarding=True),
    _minor("Rape", "Rape", safeguarding=True),
    _minor("Other sexual offences", "Other Sexual Offences", safeguarding=True),
    _major("Possession of weapons", "Possession of Weapons", police_found=True),
    _minor("Knife and blade possession", "Possession of Article with Blade or Point", "Other Knife Offences"),
    _minor(
        "Firearm offences",
        "Possession of Firearms Offences",
        "Possession of Firearm with Intent",
        "Other Firearm Offences",
        safeguarding=True,
    ),
    _minor("Exploitation of prostitution", "Exploitation of Prostitution", safeguarding=True),
)

HATE = (
    _minor(
        "Racially or religiously aggravated public fear, alarm or distress",
        "Racially or Religiously Aggravated Public Fear, Al",
    ),
)


def measure_rows(crime: pd.DataFrame, measure: Measure) -> pd.DataFrame:
    """The rows a measure counts (every row for the total)."""
    return crime if not measure.categories else measure.rows(crime)


# Measures over `datasets.hate_special_crime()` (the MPS hate crime or special crime dashboard file), whose rows are
# flags an offence carries: the measures overlap (an offence can be racist and religious and faith hate crime, or
# domestic abuse and knife crime), so each is shown on its own and none is ever added to another.
RACIST_AND_RELIGIOUS = _minor("Racist and religious hate crime", "Racist and Religious Hate Crime", safeguarding=True)
HATE_STRANDS = (
    RACIST_AND_RELIGIOUS,
    _minor("Faith hate crime", "Faith Hate Crime", safeguarding=True),
    _minor("Islamophobic hate crime", "Islamophobic", safeguarding=True),
    _minor("Antisemitic hate crime", "Anti-Semitic", safeguarding=True),
    _minor("Homophobic hate crime", "Homophobic Hate Crime", safeguarding=True),
    _minor("Transgender hate crime", "Transgender Hate", safeguarding=True),
    _minor("Disability hate crime", "Disability Hate Crime", safeguarding=True),
)

DOMESTIC_ABUSE = _minor("Domestic abuse", "Domestic Abuse", safeguarding=True)
SPECIAL = (
    DOMESTIC_ABUSE,
    _minor("Domestic abuse violence with injury", "Domestic Abuse VWI", safeguarding=True),
    _minor("Domestic abuse homicide", "Domestic Abuse Homicide", safeguarding=True, counts_only=True),
    _minor("Knife crime", "Knife Crime", safeguarding=True),
    _minor("Knife crime with injury", "Knife Crime With Injury", safeguarding=True),
    _minor("Gun crime", "Gun Crime", safeguarding=True),
    _minor("Homicide", "Homicide", safeguarding=True, counts_only=True),
)


# The same measures over the CONNECT-era series (``datasets.recorded_crime_connect``), whose categories are UPPER CASE
# and coarser. The latest extract splits stalking and harassment out of violence without injury and names death or
# serious injury by illegal driving (violence with injury in the Home Office rules): each is counted where the
# earlier extracts counted it, so the measure means the same in every month. A measure absent here exists only in the
# CRIS-era series (its categories have no CONNECT-era counterpart).
CONNECT_MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        TOTAL,
        _major("Burglary", "BURGLARY"),
        _major("Robbery", "ROBBERY"),
        _major("Theft", "THEFT"),
        _major("Vehicle offences", "VEHICLE OFFENCES"),
        _major("Criminal damage and arson", "ARSON AND CRIMINAL DAMAGE"),
        _minor("Drug trafficking", "TRAFFICKING OF DRUGS", police_found=True),
        _minor("Possession of drugs", "POSSESSION OF DRUGS", police_found=True),
        _major("Public order offences", "PUBLIC ORDER OFFENCES"),
        _major("Violence against the person", "VIOLENCE AGAINST THE PERSON"),
        _minor("Violence with injury", "VIOLENCE WITH INJURY", "DEATH SERIOUS INJURY ILLEGAL DRIVING"),
        _minor("Violence without injury", "VIOLENCE WITHOUT INJURY", "STALKING AND HARASSMENT"),
        _minor("Homicide", "HOMICIDE", safeguarding=True),
        _major("Sexual offences", "SEXUAL OFFENCES", safeguarding=True),
        _minor("Rape", "RAPE", safeguarding=True),
        _minor("Other sexual offences", "OTHER SEXUAL OFFENCES", safeguarding=True),
        _major("Possession of weapons", "POSSESSION OF WEAPONS", police_found=True),
        _minor(
            "Racially or religiously aggravated public fear, alarm or distress", "RACE OR RELIGIOUS AGG PUBLIC FEAR"
        ),
    )
}

SERIES_MEASURES = {"cris": None, "connect": CONNECT_MEASURES}  # None: the CRIS-era definitions above


def in_series(measure: Measure, series: str) -> Measure | None:
    """The measure as defined over `series` ('cris' or 'connect'), or None when that series cannot count it."""
    if series not in SERIES_MEASURES:
        raise ValueError(f"series must be one of {', '.join(SERIES_MEASURES)}, got {series!r}")
    mapping = SERIES_MEASURES[series]
    return measure if mapping is None else mapping.get(measure.name)
