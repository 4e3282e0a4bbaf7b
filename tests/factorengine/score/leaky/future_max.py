"""Leak: distance to the highest close of the next five days."""
import numpy as np


def factor(d):
    c = d.close
    out = np.full_like(c, np.nan)
    ahead = np.stack([c[k:len(c) - 5 + k] for k in range(1, 6)])
    out[:-5] = np.nanmax(ahead, axis=0) / c[:-5] - 1
    return out
