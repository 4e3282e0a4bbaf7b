"""Leak: closes sorted along time."""
import numpy as np


def factor(d):
    return np.sort(d.close, axis=0)
