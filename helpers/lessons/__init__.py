"""Lesson views: what only a notebook needs (printing, tables, plots, widgets, notebook bookkeeping).

These modules sit on top of the rest of ``helpers``: they import from it, and
nothing in ``helpers`` outside this package imports them back.

Importing any of them lets pandas show every table cell whole: its default cuts a cell at 50 characters with
"...", and the cells a learner must read (licence notes, "lacks" reasons, checklist fixes, evidence sources) are
longer than that. HTML tables wrap the text instead.
"""

import pandas as pd

pd.set_option("display.max_colwidth", None)
