"""Yesterday's losers bounce."""


def factor(d):
    return -d.returns
