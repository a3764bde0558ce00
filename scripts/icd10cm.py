#!/usr/bin/env python3
"""Builds data/icd10cm/icd10cm-2026.tsv.gz, the ICD-10-CM code list Salus carries.

The codes come from the CDC's tabular XML (public domain) as the PyPI package
`simple-icd-10-cm` ships it, with its expansion of seventh characters, so the list has
every valid code (98,500-odd), not only the 46,000 written out in the XML.

    pip download simple-icd-10-cm --no-deps -d /tmp/icd && pip install --target /tmp/icd/lib /tmp/icd/*.whl
    PYTHONPATH=/tmp/icd/lib python3 scripts/icd10cm.py

One line per code (categories and below; chapters and blocks are left out):
code with its dot, 1 if billable (a leaf) else 0, the description.
"""
import gzip
import sys

import simple_icd_10_cm as cm

OUT = "data/icd10cm/icd10cm-2026.tsv.gz"

rows = 0
with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as out:
    for code in cm.get_all_codes(with_dots=True):
        if cm.is_chapter_or_block(code):
            continue
        desc = " ".join(cm.get_description(code).split())
        out.write(f"{code}\t{1 if cm.is_leaf(code) else 0}\t{desc}\n")
        rows += 1
print(f"{rows} codes written to {OUT}", file=sys.stderr)
