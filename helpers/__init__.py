"""OpenLLM Routes helpers: the logic behind the notebooks, one folder per layer (README: Architecture).

Importing any module here has no side effects; see :mod:`helpers.core.quiet` for
how model loads keep notebook outputs free of library noise.
"""
