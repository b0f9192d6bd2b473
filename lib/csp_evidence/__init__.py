"""csp-evidence: reproducible evidence packs for Community Safety Partnerships, from official open data."""

__version__ = "0.1.0"
