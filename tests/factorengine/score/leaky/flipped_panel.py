"""Leak: the panel flipped in time."""
import numpy as np


def factor(d):
    return np.flip(d.returns, axis=0)
