"""Leak: price relative to the last price in the sample (an index trick)."""


def factor(d):
    return d.close / d.close[-1]
