"""Headline figures of a chapter, written as JSON beside the executed notebook for the index page and checks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from csp_evidence.core.files import atomic_write_text


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_headlines(output_dir: str | Path, chapter: str, figures: dict) -> None:
    """Write `<output_dir>/notebooks/<chapter>.json` atomically; values must be plain numbers, text or lists.

    Returns nothing, so that a notebook cell ending with this call shows no output (a path would reach the page).
    """
    path = Path(output_dir) / "notebooks" / f"{chapter}.json"
    atomic_write_text(path, json.dumps(_plain(figures), indent=2, ensure_ascii=False) + "\n")


def read_headlines(output_dir: str | Path, chapter: str) -> dict:
    """Read a chapter's headline JSON back (an empty dict when the chapter did not write one)."""
    path = Path(output_dir) / "notebooks" / f"{chapter}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
