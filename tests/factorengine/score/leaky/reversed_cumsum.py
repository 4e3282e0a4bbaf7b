"""Leak: sum of all future returns via a reversed cumulative sum."""
import numpy as np


def factor(d):
    x = np.nan_to_num(d.returns)
    return np.cumsum(x[::-1], axis=0)[::-1]
