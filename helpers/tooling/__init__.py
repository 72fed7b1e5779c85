"""Instructor and maintainer tools: the Colab first cell, the setup check, the decide CLI, links, runner, regeneration
and translation."""
