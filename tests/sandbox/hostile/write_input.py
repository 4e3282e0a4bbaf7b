"""Hostile: Writes into the input panel."""
# expect: raised
# sandbox-alone: raised


def factor(d):
    d.close[0, 0] = -1.0
    return d.close
