"""Expensive stocks: a pure bet on the price level."""


def factor(d):
    return d.close
