"""Leak: missing prices back-filled from later days."""
import numpy as np


def factor(d):
    c = d.close
    valid = ~np.isnan(c)
    index = np.where(valid, np.arange(len(c))[:, None], len(c) - 1)
    nxt = np.minimum.accumulate(index[::-1], axis=0)[::-1]
    filled = np.take_along_axis(c, nxt, axis=0)
    return filled / np.nanmean(filled, axis=1, keepdims=True) + 0.001 * d.returns
