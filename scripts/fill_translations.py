#!/usr/bin/env python3
"""Fill German translations for given msgids in a .po file (and clear their fuzzy flags).

Usage: scripts/fill_translations.py PO_FILE TRANSLATIONS.json
Only entries whose msgid is in the JSON mapping are touched; the others stay as they are.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def _unquote(block: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', block)
    return "".join(parts).encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def fill(po: Path, translations: dict[str, str]) -> int:
    entries = po.read_text(encoding="utf-8").split("\n\n")
    changed = 0
    for index, entry in enumerate(entries):
        match = re.search(r'^msgid ((?:".*"\n?)+)^msgstr ((?:".*"\n?)+)', entry + "\n", re.M)
        if not match or "msgid_plural" in entry:
            continue
        msgid = _unquote(match.group(1))
        if msgid not in translations:
            continue
        lines = [
            line
            for line in entry.split("\n")
            if not line.startswith("#| ") and line.strip() != "#, fuzzy"
        ]
        lines = [line.replace(", fuzzy", "") if line.startswith("#,") else line for line in lines]
        text = "\n".join(lines)
        head = text[: text.index("msgstr ")]
        entries[index] = head + "msgstr " + _quote(translations[msgid])
        changed += 1
    po.write_text("\n\n".join(entries), encoding="utf-8")
    return changed


if __name__ == "__main__":
    mapping = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    print(f"{sys.argv[1]}: {fill(Path(sys.argv[1]), mapping)} translations filled")
