"""Hostile: Monkeypatches numpy to poison later runs."""
# expect: policy
# sandbox-alone: ok
import numpy as np


def factor(d):
    np.nanmean = lambda *a, **k: 0.0
    return d.returns
