"""Hostile: Raises SystemExit."""
# expect: exited
# sandbox-alone: exited


def factor(d):
    raise SystemExit(3)
