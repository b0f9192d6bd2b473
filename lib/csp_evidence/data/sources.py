"""The registry of official data sources the evidence pack uses, and the lock of the exact bytes used.

Each source names its publisher, dataset page, download URL, licence and the file name it is kept under
in ``data/raw/`` (and in a mirror folder, which is laid out the same way). ``data/sources.lock`` holds
the sha256 and retrieval date of the bytes every number in the pack was computed from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from csp_evidence.core.files import atomic_write_text
from csp_evidence.core.paths import lock_path
from csp_evidence.data.archives import unsafe_name

OGL = "Open Government Licence v3.0"
_DATASTORE_CRIME = "https://data.london.gov.uk/dataset/recorded_crime_summary"
_DATASTORE_CRIME_DL = "https://data.london.gov.uk/download/recorded_crime_summary"
_ONS_PFA = "https://www.ons.gov.uk/peoplepopulationandcommunity/crimeandjustice/datasets/policeforceareadatatables"
_ONS_FILE = "https://www.ons.gov.uk/file?uri=/peoplepopulationandcommunity/crimeandjustice/datasets"
# the "most recent 24 months" ward file (replaced monthly at the same resource); its extracts share one title
_WARD_TITLE = "MPS Ward Level Crime (most recent 24 months)"
_WARD_URL = f"{_DATASTORE_CRIME_DL}/ed658f91-3e68-4016-aec8-1323a67fd426/MPS%20Ward%20Level%20Crime%20%28most%20recent%2024%20months%29.csv"
_ONS_GEOPORTAL = "https://geoportal.statistics.gov.uk"

# The ONS lookups that place every LSOA in its ward, local authority, CSP, police force area and region
# (data/readers/ons_geography.py): id, title as published, file, vintage, notes.
_ONS_LOOKUPS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "ons_lsoa21_ward22_lad22",
        "LSOA (2021) to Ward to Local Authority District (May 2022) Best Fit Lookup for EW",
        "geo/LSOA_(2021)_to_Ward_to_Local_Authority_District_(May_2022)_Best_Fit_Lookup_for_EW.csv",
        "2021 LSOAs, May 2022 wards and authorities",
        "An early version naming the authority LTLA22CD. Best fit: wards no LSOA is fitted to (20 of the City of "
        "London's 25) are missing. Gives a 2021 LSOA's authority before the April 2023 mergers.",
    ),
    (
        "ons_lsoa21_ward23_lad23",
        "LSOA (2021) to Electoral Ward (2023) to LAD (2023) Best Fit Lookup in EW",
        "geo/LSOA_(2021)_to_Electoral_Ward_(2023)_to_LAD_(2023)_Best_Fit_Lookup_in_EW.csv",
        "2021 LSOAs, 2023 wards and authorities",
        "Places each 2021 LSOA in its ward and authority. Some Welsh ward names are garbled in the file, so the "
        "pack takes ward names from the ward lookup.",
    ),
    (
        "ons_ward23_lad23_region",
        "Ward to Local Authority District to County to Region to Country (May 2023) Lookup in United Kingdom",
        "geo/Ward_to_Local_Authority_District_to_County_to_Region_to_Country_(May_2023)_Lookup_in_United_Kingdom.csv",
        "May 2023 wards",
        "The complete ward list, with each ward's authority, region and country (Wales has no regions).",
    ),
    (
        "ons_lsoa11_ward19",
        "Lower Layer Super Output Area (2011) to Ward (2019) Lookup in England and Wales",
        "geo/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv",
        "2011 LSOAs, December 2019 wards and authorities",
        "A re-saved copy of the data.gov.uk CSV (no BOM). Gives a 2011 LSOA's district before the 2020-2023 mergers, "
        "which places it in its CSP where the CSP lookup splits a merged authority.",
    ),
    (
        "ons_lsoa11_ward21_lad21",
        "LSOA (2011) to Electoral Ward (2021) to LAD (2021) Lookup in EW (V2)",
        "geo/LSOA11_WD21_LAD21_EW_LU_V2.xlsx",
        "2011 LSOAs, 2021 wards and authorities",
        "Sheet LSOA11_WD21_LAD21_EW_LU. Places each 2011 LSOA in its 2021 ward and authority.",
    ),
    (
        "ons_lad19_csp19_pfa19",
        "Local Authority District to Community Safety Partnerships to Police Force Areas (December 2019) Lookup in "
        "England and Wales",
        "geo/Local_Authority_District_to_Community_Safety_Partnerships_to_Police_Force_Areas_(December_2019)_Lookup_"
        "in_England_and_Wales.csv",
        "December 2019 authorities and CSPs",
        "A re-saved copy of the data.gov.uk CSV. The CSP of each district before the 2020-2023 mergers.",
    ),
    (
        "ons_lad23_csp23_pfa23",
        "Local Authority District to CSPs to Police Force Areas (December 2023) Lookup in England and Wales",
        "other/ons_lookup_LAD23_CSP23_PFA23_December_2023.csv",
        "December 2023: 318 authorities, 314 CSPs, 43 police force areas",
        "One row per authority and CSP: seven merged authorities are listed once for each CSP of their former "
        "districts (Buckinghamshire, Bournemouth Christchurch and Poole, ...).",
    ),
)

# The id of every registered source, as a name: code refers to a source by these, never by a typed string.
MPS_BOROUGH_HISTORICAL = "mps_borough_historical"
MPS_BOROUGH_RECENT = "mps_borough_recent"
MPS_BOROUGH_EXTRACT_2020_07 = "mps_borough_extract_2020_07"
MPS_BOROUGH_CONNECT_HISTORICAL = "mps_borough_connect_historical"
MPS_BOROUGH_CONNECT_RECENT_2025_02 = "mps_borough_connect_recent_2025_02"
MPS_BOROUGH_CONNECT_RECENT_2025_12 = "mps_borough_connect_recent_2025_12"
ONS_POPULATION = "ons_population"
GLA_BOROUGH_PROFILES = "gla_borough_profiles"
MOPAC_PAS = "mopac_pas"
ONS_PFA_ASB = "ons_pfa_asb"
GLA_SOL_ASB_CALLS = "gla_sol_asb_calls"
GLA_SOL_REOFFENDING = "gla_sol_reoffending"
MPS_HATE_SPECIAL = "mps_hate_special"
MOJ_PROVEN_REOFFENDING = "moj_proven_reoffending"
MOJ_PROVEN_REOFFENDING_TOOL = "moj_proven_reoffending_tool"
POLICEUK_STREET_ASB = "policeuk_street_asb"
MPS_WARD_CRIS_2022_08 = "mps_ward_cris_2022_08"
MPS_WARD_CRIS_2023_08 = "mps_ward_cris_2023_08"
MPS_WARD_CONNECT_2025_03 = "mps_ward_connect_2025_03"
MPS_WARD_CONNECT_2026_03 = "mps_ward_connect_2026_03"
MHCLG_IMD2019 = "mhclg_imd2019"
ONS_CENSUS2021_LSOA_POPULATION = "ons_census2021_lsoa_population"
POLICEUK_FORCE_STREET = "policeuk_force_street"
POLICEUK_REDUCED = "policeuk_reduced"


@dataclass(frozen=True)
class Source:
    """One official file: who publishes it, where it comes from, and where the project keeps it."""

    id: str
    title: str
    publisher: str
    page: str
    url: str
    licence: str
    file: str  # path under data/raw/ and under a mirror folder
    period: str
    notes: str = ""
    optional: bool = False  # not in the mirror: chapters that use it say how to add it, and build without it
    # A secondary source (a compilation by `publisher` of figures another body published first) names the
    # original publisher and dataset here, and its page: pages and charts cite them and say "secondary".
    original: str = ""
    original_page: str = ""
    # A source published one file a month: `file` is a pattern with {month} (YYYY-MM) and the lock holds one
    # entry per month, under the id `<id>/<YYYY-MM>` (``month_entry``).
    monthly: bool = False

    def month_file(self, month: str) -> str:
        """The file of one month of a monthly source, under data/raw/ and the mirror."""
        if not self.monthly:
            raise ValueError(f"{self.id} is not a monthly source")
        month, _, force = month.partition("/")  # an entry of one force's month: 'YYYY-MM/<force>'
        return self.file.format(month=month, force=force or "*")

    @property
    def secondary(self) -> bool:
        """True for a compilation of figures first published by another body (`original`)."""
        return bool(self.original)


SOURCES: tuple[Source, ...] = (
    Source(
        id=MPS_BOROUGH_HISTORICAL,
        title="MPS Borough Level Crime (Historical), CRIS-era extract",
        publisher="Metropolitan Police Service (London Datastore)",
        page=_DATASTORE_CRIME,
        url=f"{_DATASTORE_CRIME_DL}/3cdda2b7-b56f-4f21-b8f1-a8cfd7da3bf5/MPS%20Borough%20Level%20Crime%20%28Historical%29.csv",
        licence=OGL,
        file="mps/mps_borough_crime_historical_201004_202201.csv",
        period="2010-04 to 2022-01, monthly",
        notes="Recorded offences by borough, major and minor category. Borough is the borough managing the case (CRIS).",
    ),
    Source(
        id=MPS_BOROUGH_RECENT,
        title="MPS Borough Level Crime (most recent 24 months), CRIS-era extract",
        publisher="Metropolitan Police Service (London Datastore)",
        page=_DATASTORE_CRIME,
        url=f"{_DATASTORE_CRIME_DL}/d2e9ccfc-a054-41e3-89fb-53c2bc3ed87a/MPS%20Borough%20Level%20Crime%20%28most%20recent%2024%20months%29.csv",
        licence=OGL,
        file="mps/mps_borough_crime_recent_202202_202401.csv",
        period="2022-02 to 2024-01, monthly",
        notes="Continues the historical file with no gap or overlap: together one monthly series 2010-04 to 2024-01.",
    ),
    Source(
        id=MPS_BOROUGH_EXTRACT_2020_07,
        title="MPS Borough Level Crime (most recent 24 months), as published in July 2020",
        publisher="Metropolitan Police Service (London Datastore)",
        page=_DATASTORE_CRIME,
        url=f"{_DATASTORE_CRIME_DL}/d2e9ccfc-a054-41e3-89fb-53c2bc3ed87a/MPS%20Borough%20Level%20Crime%20%28most%20recent%2024%20months%29.csv",
        licence=OGL,
        file="mps/mps_borough_crime_recent_201807_202006_extract202007.csv",
        period="2018-07 to 2020-06, monthly",
        notes="The extract nearest in date to the CSP Plan 2021-24; used to show how the plan's figures were revised.",
    ),
    Source(
        id=MPS_BOROUGH_CONNECT_HISTORICAL,
        title="MPS Borough Level Crime (Historical), CONNECT-era re-extract",
        publisher="Metropolitan Police Service (London Datastore)",
        page=_DATASTORE_CRIME,
        url=f"{_DATASTORE_CRIME_DL}/3cdda2b7-b56f-4f21-b8f1-a8cfd7da3bf5/MPS%20Borough%20Level%20Crime%20%28Historical%29.csv",
        licence=OGL,
        file="mps/mps_borough_crime_historical_201004_202302_connect.csv",
        period="2010-04 to 2023-02, monthly",
        notes="The MPS's newer series (CONNECT era, downloaded about April 2025): borough is where the offence "
        "happened, applied back to 2010, so counts differ from the CRIS-era files; coarser UPPER-CASE categories and "
        "an 'Unknown' borough. A separate series from the CRIS-era files, never mixed with them.",
    ),
    Source(
        id=MPS_BOROUGH_CONNECT_RECENT_2025_02,
        title="MPS Borough Level Crime (most recent 24 months), CONNECT-era extract to February 2025",
        publisher="Metropolitan Police Service (London Datastore)",
        page=_DATASTORE_CRIME,
        url=f"{_DATASTORE_CRIME_DL}/d2e9ccfc-a054-41e3-89fb-53c2bc3ed87a/MPS%20Borough%20Level%20Crime%20%28most%20recent%2024%20months%29.csv",
        licence=OGL,
        file="mps/mps_borough_crime_recent_202303_202502_connect.csv",
        period="2023-03 to 2025-02, monthly",
        notes="Continues the CONNECT-era historical file; its months from 2024-01 are superseded by the later extract.",
    ),
    Source(
        id=MPS_BOROUGH_CONNECT_RECENT_2025_12,
        title="MPS Borough Level Crime (most recent 24 months), CONNECT-era extract to December 2025",
        publisher="Metropolitan Police Service (London Datastore)",
        page=_DATASTORE_CRIME,
        url=f"{_DATASTORE_CRIME_DL}/d2e9ccfc-a054-41e3-89fb-53c2bc3ed87a/MPS%20Borough%20Level%20Crime%20%28most%20recent%2024%20months%29.csv",
        licence=OGL,
        file="mps/mps_borough_crime_recent_202401_202512_connect.csv",
        period="2024-01 to 2025-12, monthly",
        notes="The latest extract held: it revises 2024-01 to 2025-02 of the extract before it, and splits stalking "
        "and harassment out of violence without injury.",
    ),
    # Ward-level crime (chapter "Where: areas of focus"). Ward sums fall short of the borough totals (not every
    # offence is placed in a ward); most boroughs' wards were redrawn in May 2022 and later extracts restate earlier
    # months in the new wards; CRIS-era and CONNECT-era extracts are separate series.
    Source(
        id=MPS_WARD_CRIS_2022_08,
        title=_WARD_TITLE,
        publisher="Metropolitan Police Service (London Datastore)",
        page=_DATASTORE_CRIME,
        url=_WARD_URL,
        licence=OGL,
        file="mps/mps_ward_crime_recent_202009_202208.csv",
        period="2020-09 to 2022-08, monthly (CRIS-era extract to August 2022)",
        notes="Recorded offences by ward (the wards before May 2022), major and minor category (CRIS era).",
    ),
    Source(
        id=MPS_WARD_CRIS_2023_08,
        title=_WARD_TITLE,
        publisher="Metropolitan Police Service (London Datastore)",
        page=_DATASTORE_CRIME,
        url=_WARD_URL,
        licence=OGL,
        file="mps/mps_ward_crime_recent_202109_202308.csv",
        period="2021-09 to 2023-08, monthly (CRIS-era extract to August 2023)",
        notes="The May 2022 wards for every borough, earlier months restated in them; includes the airports' "
        "'Aviation Security (SO18)' rows (Heathrow Villages ward), which are not a borough.",
    ),
    Source(
        id=MPS_WARD_CONNECT_2025_03,
        title=_WARD_TITLE,
        publisher="Metropolitan Police Service (London Datastore)",
        page=_DATASTORE_CRIME,
        url=_WARD_URL,
        licence=OGL,
        file="mps/mps_ward_crime_recent_202304_202503.csv",
        period="2023-04 to 2025-03, monthly (CONNECT-era extract to March 2025)",
        notes="CONNECT era (UPPER-CASE categories), May 2022 wards: a separate series from the CRIS-era extracts.",
    ),
    Source(
        id=MPS_WARD_CONNECT_2026_03,
        title=_WARD_TITLE,
        publisher="Metropolitan Police Service (London Datastore)",
        page=_DATASTORE_CRIME,
        url=_WARD_URL,
        licence=OGL,
        file="mps/mps_ward_crime_recent_202403_202603.csv",
        period="2024-04 to 2026-03, monthly (CONNECT-era extract to March 2026; its first column, 2024-03, is a "
        "near-empty stub and is not used)",
        notes="The latest ward extract held (CONNECT era, May 2022 wards); revises the months it shares with the "
        "extract before it.",
    ),
    # Boundaries for the ward maps (British National Grid). A shapefile or MapInfo table is several files read
    # together: each is registered and locked on its own.
    *(
        Source(
            id=f"geo_london_lsoa21_{part}",
            title="Lower layer Super Output Areas (2021) Boundaries EW BGC, London extract (shapefile)",
            publisher="Office for National Statistics (a London extract kept in the public repository london-data)",
            page="https://geoportal.statistics.gov.uk/",
            url="https://github.com/jamesdamillington/london-data",
            licence=OGL,
            file=f"geo/london-2021-lsoa-gen20/london-2021-lsoa-gen20.{ext}",
            period="2021 LSOAs (4,994 in London), generalised to 20 m",
            notes="The ONS's LSOA (2021) Boundaries EW BGC V3, London's LSOAs only (an extract, geometry unchanged). "
            "Used to draw the May 2022 wards, approximately, as the union of the 2021 LSOAs best-fitted to each ward. "
            "Contains OS data (c) Crown copyright and database right 2022.",
        )
        for part, ext in (("shp", "shp"), ("shx", "shx"), ("dbf", "dbf"))  # one shapefile: three files
    ),
    *(
        Source(
            id=f"geo_london_wards_2018_{part}",
            title="Statistical GIS Boundary Files for London: London wards 2018, City merged (MapInfo table)",
            publisher="Greater London Authority (London Datastore)",
            page="https://data.london.gov.uk/dataset/statistical-gis-boundary-files-london",
            url="https://data.london.gov.uk/dataset/statistical-gis-boundary-files-london",
            licence=OGL,
            file=f"geo/London-wards-2018/London-wards-2018_Mapinfo/London_Ward_CityMerged.{ext}",
            period="London's wards as at 2018 (633, the City's 25 merged into one)",
            notes="The wards before May 2022, and the wards of the seven boroughs not redrawn in 2022 (Tower Hamlets, "
            "Croydon, Southwark, Redbridge, Hackney, Kensington and Chelsea, Bexley). Contains OS data (c) Crown "
            "copyright and database right 2018.",
        )
        for part, ext in (("tab", "tab"), ("map", "MAP"), ("dat", "DAT"), ("id", "ID"))  # one table: four files
    ),
    Source(
        id=MHCLG_IMD2019,
        title="English indices of deprivation 2019, File 1: Index of Multiple Deprivation",
        publisher="Ministry of Housing, Communities and Local Government",
        page="https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019",
        url="https://assets.publishing.service.gov.uk/government/uploads/system/uploads/attachment_data/file/833970/"
        "File_1_-_IMD2019_Index_of_Multiple_Deprivation.xlsx",
        licence=OGL,
        file="geo/File_1_-_IMD2019_Index_of_Multiple_Deprivation.xlsx",
        period="2019 (2011 LSOAs, England only)",
        notes="Sheet IMD2019: each 2011 LSOA's rank (1 = most deprived of 32,844) and decile. A copy re-saved by "
        "Excel Online; its ranks equal the ONS lookup's.",
    ),
    Source(
        id=ONS_POPULATION,
        title="Estimates of the population for England and Wales, mid-2011 to mid-2023 (2023 local authority boundaries)",
        publisher="Office for National Statistics",
        page="https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates/datasets/estimatesofthepopulationforenglandandwales",
        url="https://www.ons.gov.uk/file?uri=/peoplepopulationandcommunity/populationandmigration/populationestimates/datasets/estimatesofthepopulationforenglandandwales/mid2023/mye23tablesew.xlsx",
        licence=OGL,
        file="other/ons_mye_LAD23_Mid_Year_pop_2011_to_2023.xlsx",
        period="mid-2011 to mid-2023, annual",
        notes="Sheet MYE5: total population by local authority, the revised series consistent with Census 2021.",
    ),
    *(
        Source(
            id=sid,
            title=title,
            publisher="Office for National Statistics (Open Geography Portal)",
            page=_ONS_GEOPORTAL,
            url=f"{_ONS_GEOPORTAL}/search?q={quote(title)}",
            licence=OGL + "; contains OS data (c) Crown copyright and database right",
            file=file,
            period=period,
            notes=notes,
        )
        for sid, title, file, period, notes in _ONS_LOOKUPS
    ),
    Source(
        id=ONS_CENSUS2021_LSOA_POPULATION,
        title="Census 2021 TS007A: age by five-year age bands, lower layer super output areas (bulk download)",
        publisher="Office for National Statistics (Nomis)",
        page="https://www.nomisweb.co.uk/sources/census_2021_bulk",
        url="https://www.nomisweb.co.uk/output/census/2021/census2021-ts007a.zip",
        licence=OGL,
        file="geo/census2021-ts007a-lsoa.csv",
        period="Census day, 21 March 2021",
        notes="`census2021-ts007a-lsoa.csv` of the zip: usual residents ('Age: Total') of every 2021 LSOA of England "
        "and Wales. LSOA cells are perturbed, so they add up to an authority's published total only roughly.",
    ),
    Source(
        id=GLA_BOROUGH_PROFILES,
        title="London Borough Profiles (2017 release)",
        publisher="Greater London Authority",
        page="https://data.london.gov.uk/dataset/london-borough-profiles",
        url="https://data.london.gov.uk/download/london-borough-profiles/c1693b82-68b1-44ee-beb2-3decf17dc1f8/london-borough-profiles.csv",
        licence=OGL,
        file="other/gla_london-borough-profiles.csv",
        period="2017 release",
        notes="Used as the borough lookup: name, ONS code, inner or outer London.",
    ),
    Source(
        id=MOPAC_PAS,
        title="MOPAC Public Attitude Survey dashboard, Borough sheet (CSV export)",
        publisher="Mayor's Office for Policing And Crime (London Datastore)",
        page="https://data.london.gov.uk/dataset/mopac-surveys",
        url="https://data.london.gov.uk/download/mopac-surveys/c3db2a0c-70f5-4b73-916b-2b0fcd9decc0/PAS_T%26Cdashboard_to%20Q3%2023-24.xlsx",
        licence=OGL,
        file="other/mopac_pas_borough_PAS_Dashboard_Borough.csv",
        period="quarters ending 2014-12 to 2023-12",
        notes="A CSV export of the Borough sheet of the official workbook (decimal commas); the mirror holds this export.",
    ),
    Source(
        id=ONS_PFA_ASB,
        title="Crime in England and Wales: Police Force Area data tables, year ending March 2019 "
        "(Tables P7 and P8: anti-social behaviour incidents)",
        publisher="Office for National Statistics (Home Office police-recorded incident data)",
        page=_ONS_PFA,
        url=f"{_ONS_FILE}/policeforceareadatatables/yearendingmarch2019/policeforceareatablesyeendingmarch2019.xlsx",
        licence=OGL,
        file="ons/policeforceareatablesyeendingmarch2019.xlsx",
        period="financial years 2007/08 to 2018/19",
        notes="ASB incidents recorded by each police force (not National Statistics): Table P7 by financial year, "
        "Table P8 by category in 2018/19. Force-wide only, no borough breakdown; 2011/12 onwards not directly "
        "comparable with earlier years (a change of recording). Supersedes the year ending March 2018 edition, "
        "which this pack does not use.",
    ),
    Source(
        id=GLA_SOL_ASB_CALLS,
        title="State of London chart database, June 2024 edition (dataset sol_asb: anti-social behaviour calls "
        "to the Metropolitan Police, London, monthly)",
        publisher="Greater London Authority, City Intelligence (State of London)",
        page="https://github.com/joeheywood/state_of_london_proc",
        url="https://raw.githubusercontent.com/joeheywood/state_of_london_proc/"
        "807bffc29b81781fe75091dbe90c7f3ec5e7dda3/data/sol_v4.db",
        licence="no licence on the compiled database; the underlying MOPAC / MPS statistics are published under "
        "the " + OGL,
        file="gla/gla_state_of_london_sol_v4_20240529.db",
        period="2019-01 to 2024-03, monthly",
        notes="London-wide calls about ASB received by the Metropolitan Police: calls, not recorded incidents, "
        "and no borough breakdown. Lockdown-breach reports were counted as ASB in 2020/21. An SQLite database "
        "the GLA built for its State of London report, kept in a public GitHub repository by its analyst.",
        original="MOPAC (Mayor's Office for Policing And Crime) crime dashboard of Metropolitan Police Service data",
        original_page="https://www.london.gov.uk/what-we-do/mayors-office-policing-and-crime-mopac/data-and-statistics/crime-dashboard",
    ),
    Source(
        id=GLA_SOL_REOFFENDING,
        title="State of London dashboard database, June 2025 (dataset proven_reoffending: London's proven "
        "reoffending rate)",
        publisher="Greater London Authority, City Intelligence (State of London)",
        page="https://github.com/joeheywood/StateLondon2",
        url="https://raw.githubusercontent.com/joeheywood/StateLondon2/"
        "e15545f24da83d78ea2c7087b177dc741fb31de8/app/data/sol_dash.db",
        licence="no licence on the compiled database; the underlying MoJ statistics are published under the " + OGL,
        file="gla/gla_state_of_london_sol_dash_20250618.db",
        period="2013 to 2023, one value a year",
        notes="London-wide proven reoffending rate, no borough breakdown; the GLA states neither the cohort "
        "definition nor what its June dating of each year means. An SQLite database the GLA built for its State "
        "of London dashboard, kept in a public GitHub repository by its analyst.",
        original="Ministry of Justice's proven reoffending statistics",
        original_page="https://www.gov.uk/government/collections/proven-reoffending-statistics",
    ),
    Source(
        id=MPS_HATE_SPECIAL,
        title="MPS hate crime or special crime dashboard data: Monthly Crime Other Crime Borough Level Off Type, "
        "CRIS-era extract",
        publisher="Metropolitan Police Service (London Datastore)",
        page="https://data.london.gov.uk/dataset/mps-hate-crime-or-special-crime-dashboard-data",
        url="https://data.london.gov.uk/download/mps-hate-crime-or-special-crime-dashboard-data/"
        "69a3a068-99f0-412a-960c-e54c6cacff71/Monthly%20Crime%20Other%20Crime%20Borough%20Level%20Off%20Type.csv",
        licence=OGL,
        file="mps/mps_hate_special_crime_borough_201004_202105.csv",
        period="2010-04 to 2021-05, monthly",
        notes="Offences flagged as hate crime by strand (racist and religious, faith, Islamophobic, antisemitic, "
        "homophobic, transgender, disability: strands overlap and are never added up), domestic abuse, knife and "
        "gun crime and homicide, by borough and month, as extracted about June 2021 (recent months open to "
        "revision). 'Aviation Security(SO18)' is the MPS airports unit, not a borough; no City of London.",
    ),
)

_MOJ_COLLECTION = "https://www.gov.uk/government/collections/proven-reoffending-statistics"

OPTIONAL_SOURCES: tuple[Source, ...] = (
    Source(
        id=MOJ_PROVEN_REOFFENDING,
        title="Proven reoffending statistics: geographical data tool (CSV format of data tools), April 2011 to March 2022",
        publisher="Ministry of Justice",
        page=_MOJ_COLLECTION,
        url="https://www.gov.uk/government/statistics/proven-reoffending-statistics-january-to-march-2022",
        licence=OGL,
        file="moj/PRSQ_Geographic_data_April 2011 to March 2022.csv",
        period="offender cohorts April 2011 to March 2022",
        notes="The `PRSQ_Geographic_data_*.csv` file of the 'CSV format of data tools' zip on the release page. "
        "`csp fetch --source moj_reoffending` downloads the zip from the release page (or `--url` another "
        "release's page or zip), extracts, checks and locks the CSV; `--from PATH` takes a zip or CSV already "
        "downloaded.",
        optional=True,
    ),
    Source(
        id=MOJ_PROVEN_REOFFENDING_TOOL,
        title="Proven reoffending statistics: geographical data tool (Excel), an earlier release",
        publisher="Ministry of Justice",
        page=_MOJ_COLLECTION,
        url=_MOJ_COLLECTION,
        licence=OGL,
        file="moj/Geographical_data_tool.xlsx",
        period="offender cohorts as in the release (for example April 2009 to March 2021)",
        notes="The older Excel data tool (`Geographical_data_tool_*.xlsx`, sheet `Data`), for cohorts before those "
        "of the CSV: `csp fetch --source moj_reoffending --from Geographical_data_tool_Apr09_Mar21.xlsx`. Where a "
        "cohort is in both, the CSV's (later) figures are used.",
        optional=True,
    ),
    Source(
        id=POLICEUK_STREET_ASB,
        title="Street-level crime and anti-social behaviour, Metropolitan Police (data.police.uk)",
        publisher="Home Office / police.uk",
        page="https://data.police.uk/data/",
        url="https://data.police.uk/data/archive/{month}.zip",
        licence=OGL,
        file="policeuk/{month}/{month}-metropolitan-street.csv",
        period="monthly files YYYY-MM/YYYY-MM-metropolitan-street.csv, one a month as published",
        notes="Crime type 'Anti-social behaviour' gives ASB incidents by LSOA and month. `csp fetch --source "
        "policeuk` downloads the police.uk archives holding the months the params need (each archive "
        "YYYY-MM.zip holds 36 months of every force's files) and keeps only the Metropolitan Police's street files; "
        "`--from PATH` takes an archive, a folder or monthly files already downloaded. Each month is locked "
        "separately in data/sources.lock.",
        optional=True,
        monthly=True,
    ),
)

# police.uk for any force (issue 21): the street files of the forces that police an area, and every force's month
# reduced to counts by LSOA, crime type and outcome. Fetched by `csp fetch --source policeuk` for an area outside
# the MPS boroughs (``data.policeuk_forces``) and listed by the pages of the packs that use them, never by others.
AREA_SOURCES: tuple[Source, ...] = (
    Source(
        id=POLICEUK_FORCE_STREET,
        title="Street-level crime and anti-social behaviour, the forces policing the area (data.police.uk)",
        publisher="Home Office / police.uk",
        page="https://data.police.uk/data/",
        url="https://data.police.uk/data/archive/{month}.zip",
        licence=OGL,
        file="policeuk/{month}/{month}-{force}-street.csv",
        period="monthly files YYYY-MM/YYYY-MM-<force>-street.csv, one a force a month as published",
        notes="Kept whole for the forces that police the area (from the ONS lookup of CSPs to police force "
        "areas); locked one entry a force a month, `policeuk_force_street/YYYY-MM/<force>`.",
        optional=True,
        monthly=True,
    ),
    Source(
        id=POLICEUK_REDUCED,
        title="Street-level crime and anti-social behaviour of every force, by LSOA, crime type and outcome "
        "(reduced from data.police.uk's files)",
        publisher="Home Office / police.uk",
        page="https://data.police.uk/data/",
        url="https://data.police.uk/data/archive/{month}.zip",
        licence=OGL,
        file="policeuk/reduced/{month}-reduced.csv",
        period="monthly, every force whose street file the archive (or folder) held",
        notes="Made by `csp fetch --source policeuk` while it streams each archive: every force's street file of the "
        "month counted by LSOA code, crime type and outcome group (rows with no LSOA counted per force), without "
        "keeping the files. A derived table: the forces it covers are in its `force` column.",
        optional=True,
        monthly=True,
    ),
)

# Short names a user may type for `csp fetch --source`.
SOURCE_ALIASES = {"policeuk": POLICEUK_STREET_ASB, "moj_reoffending": MOJ_PROVEN_REOFFENDING}

_BY_ID = {s.id: s for s in (*SOURCES, *OPTIONAL_SOURCES, *AREA_SOURCES)}


def source(source_id: str) -> Source:
    """The registered source with this id (or alias, or a month's lock entry id); the error lists the ids."""
    sid = SOURCE_ALIASES.get(source_id, source_id).split("/")[0]
    try:
        return _BY_ID[sid]
    except KeyError:
        names = ", ".join([*_BY_ID, *SOURCE_ALIASES])
        raise KeyError(f"unknown source {source_id!r}; registered sources: {names}") from None


def month_entry(source_id: str, month: str) -> str:
    """The lock entry id of one month of a monthly source: 'policeuk_street_asb/2020-04'."""
    return f"{source_id}/{month}"


def entry_month(entry_id: str) -> str | None:
    """The month of a monthly lock entry id ('policeuk_street_asb/2020-04' -> '2020-04'), else None."""
    return entry_id.split("/", 1)[1] if "/" in entry_id else None


@dataclass(frozen=True)
class LockEntry:
    """The locked bytes of one source: sha256, size, the date they were retrieved and the file under data/raw/
    (empty: the registry's file)."""

    sha256: str
    bytes: int
    retrieved: str
    file: str = ""


def locked_file(entry_id: str, entry: LockEntry | None = None) -> str:
    """The file a lock entry's bytes are kept under (in data/raw/ and a mirror): the lock's, else the registry's."""
    if entry is not None and entry.file:
        return entry.file
    src, month = source(entry_id), entry_month(entry_id)
    return src.month_file(month) if month else src.file


class LockFileError(ValueError):
    """data/sources.lock cannot be read or has a malformed entry."""


def read_lock(path: Path | None = None) -> dict[str, LockEntry]:
    """Read data/sources.lock; errors name the file and the entry that is malformed."""
    path = path or lock_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LockFileError(f"{path}: cannot read the lock file ({exc})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("sources", {}), dict):
        raise LockFileError(f"{path}: expected a JSON object with a 'sources' mapping")
    entries = {}
    for sid, entry in raw.get("sources", {}).items():
        try:
            entries[sid] = LockEntry(
                str(entry["sha256"]), int(entry["bytes"]), str(entry["retrieved"]), str(entry.get("file") or "")
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LockFileError(f"{path}: entry {sid!r} needs sha256, bytes and retrieved ({exc})") from exc
        why = unsafe_name(entries[sid].file) if entries[sid].file else None
        if why:  # every path the lock names stays inside data/raw/: it is written, replaced and removed there
            raise LockFileError(
                f"{path}: entry {sid!r} names the file {entries[sid].file[:200]!r}, refused ({why}): a locked file "
                "is a path inside data/raw/"
            )
    return entries


def _lock_row(sid: str, entry: LockEntry) -> dict:
    try:
        file: str | None = locked_file(sid, entry)
    except KeyError:  # an entry of a source no longer registered is kept as it is
        file = entry.file or None
    return {"file": file, "sha256": entry.sha256, "bytes": entry.bytes, "retrieved": entry.retrieved}


def write_lock(entries: dict[str, LockEntry], path: Path | None = None) -> None:
    """Write the lock file atomically, sources in registry order."""
    path = path or lock_path()
    main = [s.id for s in SOURCES if s.id in entries]  # then optional sources and months, in name order
    order = main + sorted(set(entries) - set(main))
    body = {
        "comment": "sha256 and retrieval date of the exact bytes of each source; `csp fetch --update` rewrites it",
        "sources": {sid: _lock_row(sid, entries[sid]) for sid in order},
    }
    atomic_write_text(path, json.dumps(body, indent=2) + "\n")
