"""Hostile: Builds a list of 10^11 items."""
# expect: memory
# sandbox-alone: memory


def factor(d):
    x = [0] * 10**11
    return d.close
