"""Leak: tomorrow's close shifted onto today."""
import numpy as np


def factor(d):
    out = np.full_like(d.close, np.nan)
    out[:-1] = d.close[1:] / d.close[:-1] - 1
    return out
