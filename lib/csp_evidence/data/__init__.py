"""Data in: the sources registry and lock, fetching, one reader per source family, tidy tables, boroughs, the plan's figures."""
