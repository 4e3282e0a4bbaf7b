"""Leak: the next day's return glued on with np.concatenate."""
import numpy as np


def factor(d):
    r = d.returns
    return np.concatenate([r[1:], r[:1] * np.nan], axis=0)
