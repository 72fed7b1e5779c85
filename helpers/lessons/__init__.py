"""Lesson views: what only a notebook needs (printing, tables, plots, widgets, notebook bookkeeping).

These modules sit on top of the rest of ``helpers``: they import from it, and
nothing in ``helpers`` outside this package imports them back.
"""
