"""Hostile: Raises KeyboardInterrupt."""
# expect: exited
# sandbox-alone: exited


def factor(d):
    raise KeyboardInterrupt
