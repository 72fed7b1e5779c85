"""``python -m helpers.decide``: the decision from the terminal (the code is :mod:`helpers.tooling.decide`)."""

from helpers.tooling.decide import main

if __name__ == "__main__":
    raise SystemExit(main())
