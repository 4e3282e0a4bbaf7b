"""Hostile: Monkeypatches factorengine.ops to poison later runs."""
# expect: policy
# sandbox-alone: ok
from factorengine import ops


def factor(d):
    ops.rank = lambda x: x * 0
    return ops.rank(d.close) + d.returns
