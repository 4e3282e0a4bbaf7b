"""Leak: np.roll by -1 along time."""
import numpy as np


def factor(d):
    return np.roll(d.returns, -1, axis=0)
