"""Leak: weights that depend on the total number of days in the sample."""
import numpy as np


def factor(d):
    n_days = d.close.shape[0]
    weight = np.arange(n_days)[:, None] / n_days
    return weight * d.returns
