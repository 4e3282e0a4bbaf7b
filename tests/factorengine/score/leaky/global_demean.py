"""Leak: returns minus each stock's full-sample mean return."""


def factor(d):
    return d.returns - d.returns[1:].mean(axis=0)
