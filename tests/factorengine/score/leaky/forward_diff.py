"""Leak: the next day's change placed on today via np.diff."""
import numpy as np


def factor(d):
    step = np.diff(d.close, axis=0)
    return np.vstack([step, np.full((1, step.shape[1]), np.nan)]) / d.close
