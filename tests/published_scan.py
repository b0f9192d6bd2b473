"""What a published file holds that a reader (or `strings` and `grep`) would find: every text string and link of a
PDF, decompressed, and the machine paths and `file://` addresses that must never be in any published file."""

from __future__ import annotations

import re
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject
from site_scan import ABSOLUTE_PATH

FILE_URL = re.compile(r"file:/", re.IGNORECASE)


def pdf_strings(path: Path) -> list[str]:
    """Every string object of the PDF (links, titles, outline, metadata), each content stream decompressed, and the
    raw bytes as `strings` reads them."""
    reader = PdfReader(path)
    found: list[str] = [path.read_bytes().decode("latin-1")]
    seen: set[int] = set()

    def walk(value):
        if isinstance(value, IndirectObject):
            if value.idnum in seen:
                return
            seen.add(value.idnum)
            value = value.get_object()
        if isinstance(value, StreamObject):
            try:
                found.append(value.get_data().decode("latin-1"))
            except Exception:  # an image or font stream pypdf cannot decode: its raw bytes are in the file text
                pass
        if isinstance(value, DictionaryObject):
            for item in value.values():
                walk(item)
        elif isinstance(value, ArrayObject):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.append(str(value))

    walk(reader.trailer)
    return found


def pdf_links(path: Path) -> list[str]:
    """The address of every link in the PDF, in page order."""
    links = []
    for page in PdfReader(path).pages:
        for ref in page.get("/Annots") or []:
            action = ref.get_object().get("/A")
            if action is not None and "/URI" in action.get_object():
                links.append(str(action.get_object()["/URI"]))
    return links


def machine_paths(text: str) -> list[str]:
    """`file://` addresses and absolute paths of a machine in `text`."""
    return sorted({m.group(0)[:80] for m in FILE_URL.finditer(text)} | set(ABSOLUTE_PATH.findall(text)))


def published_problems(site: Path) -> list[str]:
    """Each published file of `site` (pages, the board summary PDF, data and scripts) that holds a machine path."""
    problems = []
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".pdf":
            texts = pdf_strings(path)
        elif path.suffix in (".html", ".csv", ".json", ".js", ".css", ".txt", ".svg", ".xml", ".md"):
            texts = [path.read_text(encoding="utf-8", errors="replace")]
        else:
            continue
        found = sorted({p for text in texts for p in machine_paths(text)})
        if found:
            problems.append(f"{path.relative_to(site)}: {', '.join(found[:5])}")
    return problems
