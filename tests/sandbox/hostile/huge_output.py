"""Hostile: Returns a far larger array than the panel."""
# expect: bad_output
# sandbox-alone: bad_output
import numpy as np


def factor(d):
    return np.ones((d.close.shape[0] * 4, d.close.shape[1]))
