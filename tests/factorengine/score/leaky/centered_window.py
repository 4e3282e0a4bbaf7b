"""Leak: a centred 5-day mean (two days of the future in every window)."""
import numpy as np


def factor(d):
    x = np.nan_to_num(d.returns)
    csum = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    out = np.full_like(x, np.nan)
    out[2:-2] = (csum[5:] - csum[:-5]) / 5
    return out
