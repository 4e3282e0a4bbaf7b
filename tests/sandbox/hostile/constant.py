"""Hostile: Returns a constant."""
# expect: bad_output
# sandbox-alone: bad_output
import numpy as np


def factor(d):
    return np.ones(d.close.shape)
