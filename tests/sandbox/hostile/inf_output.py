"""Hostile: Divides by zero."""
# expect: bad_output
# sandbox-alone: bad_output
import numpy as np


def factor(d):
    return d.close / np.zeros(d.close.shape)
