"""Hostile: Returns only NaN."""
# expect: bad_output
# sandbox-alone: bad_output
import numpy as np


def factor(d):
    return np.full(d.close.shape, np.nan)
