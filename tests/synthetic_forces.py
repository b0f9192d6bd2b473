"""Synthetic police.uk archives of several forces in the official layout, with planted effects.

Kent polices Dartford and Gravesham (a CSP of two authorities) and Maidstone; South Wales polices Cwm Taf (a Welsh
CSP: Merthyr Tydfil and Rhondda Cynon Taf); Essex's file is there to be reduced and dropped. Rows cross force
boundaries (Kent's in Thurrock, Essex's in Dartford). Files before 2022 use 2011 LSOA codes, files from 2022 the
2021 codes (each authority has codes of one set only, as police.uk's switch made them). Planted: Gravesham's
burglary doubles in 2022 (`GRAVESHAM_RISE`); ASB in Cwm Taf is `WALES_ASB_SURGE` times its level in the 2021
lockdown months. The codes are real ONS codes of those authorities.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile

import numpy as np
import pandas as pd

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
    "Last outcome category,Context"
)
# (2011 codes, 2021 codes) of each authority: codes in both sets, then one only in that set
LSOAS = {
    "Dartford": (("E01024132", "E01024133", "E01024140"), ("E01024132", "E01024133", "E01035270")),
    "Gravesham": (("E01024257", "E01024258", "E01024280"), ("E01024257", "E01024258", "E01035284")),
    "Maidstone": (("E01024320", "E01024334"), ("E01024320", "E01034990")),
    "Thurrock": (("E01015921", "E01015973"), ("E01015921", "E01034368")),
    "Merthyr Tydfil": (("W01001289", "W01001303"), ("W01001289", "W01001959")),
    "Rhondda Cynon Taf": (("W01001137", "W01001161"), ("W01001137", "W01001962")),
}
FORCES = {
    "kent": ("Kent Police", {"Dartford": 1.0, "Gravesham": 1.0, "Maidstone": 1.2, "Thurrock": 0.05}),
    "south-wales": ("South Wales Police", {"Merthyr Tydfil": 0.8, "Rhondda Cynon Taf": 1.5}),
    "essex": ("Essex Police", {"Thurrock": 1.0, "Dartford": 0.05}),
}
CRIMES = {"Burglary": 12, "Violence and sexual offences": 30, "Shoplifting": 8, "Anti-social behaviour": 20}
OUTCOMES = ("Investigation complete; no suspect identified", "Awaiting court outcome", "Unable to prosecute suspect")
GRAVESHAM_RISE = 2.0
WALES_ASB_SURGE = 2.5
LOCKDOWN_2021 = ("2021-01", "2021-02", "2021-03")
NO_LOCATION = 4  # rows a force-month with no LSOA
SWITCH = "2022-01"  # the first month of 2021 LSOA codes


def expected(force: str, lad: str, crime: str, month: str) -> float:
    """The planted mean count of a crime type in an authority in one force's file of a month."""
    mean = CRIMES[crime] * FORCES[force][1][lad]
    if lad == "Gravesham" and crime == "Burglary" and month >= "2022-01":
        mean *= GRAVESHAM_RISE
    if lad in ("Merthyr Tydfil", "Rhondda Cynon Taf") and crime == "Anti-social behaviour" and month in LOCKDOWN_2021:
        mean *= WALES_ASB_SURGE
    return mean


def street_csv(force: str, month: str, crlf: bool = False) -> bytes:
    reported = FORCES[force][0]
    rng = np.random.default_rng(int(hashlib.sha256(f"{force}{month}".encode()).hexdigest()[:8], 16))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(HEADER.split(","))
    n = 0
    for lad in FORCES[force][1]:
        codes = LSOAS[lad][0 if month < SWITCH else 1]
        for crime in CRIMES:
            for _ in range(rng.poisson(expected(force, lad, crime, month))):
                n += 1
                asb = crime == "Anti-social behaviour"
                code = codes[n % len(codes)]
                writer.writerow(
                    [
                        "" if asb else hashlib.sha256(f"{force}{month}{n}".encode()).hexdigest(),
                        month,
                        reported,
                        reported,
                        "0.3",
                        "51.4",
                        "On or near High Street",
                        code,
                        f"{lad} 001A",
                        crime,
                        "" if asb else OUTCOMES[n % len(OUTCOMES)],
                        "",
                    ]
                )
    for i in range(NO_LOCATION):
        writer.writerow(
            [
                f"nl{force}{month}{i}",
                month,
                reported,
                reported,
                "",
                "",
                "No Location",
                "",
                "",
                "Drugs",
                "Under investigation",
                "",
            ]
        )
    return out.getvalue().encode("utf-8")


def months(first: str, last: str) -> list[str]:
    return [f"{m:%Y-%m}" for m in pd.date_range(f"{first}-01", f"{last}-01", freq="MS")]


def archive(end: str, have: list[str], forces: tuple[str, ...] = tuple(FORCES)) -> bytes:
    """The archive YYYY-MM.zip holding `have`'s months among the 36 to `end`, every force's street file and an
    outcomes file beside them (never read)."""
    held = set(months(f"{pd.Timestamp(end + '-01') - pd.DateOffset(months=35):%Y-%m}", end))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for month in sorted(set(have) & held):
            for force in forces:
                zf.writestr(f"{month}/{month}-{force}-street.csv", street_csv(force, month, crlf=month >= SWITCH))
                zf.writestr(f"{month}/{month}-{force}-outcomes.csv", "Crime ID,Month\n")
    return buf.getvalue()
