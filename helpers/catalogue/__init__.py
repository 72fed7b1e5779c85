"""The vocabularies the kit agrees on: the model catalogue and the runtime table, each read from one place."""
