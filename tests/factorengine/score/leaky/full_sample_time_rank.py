"""Leak: each day's rank of close within the stock's whole history, future included."""
import numpy as np


def factor(d):
    x = np.where(np.isnan(d.close), np.inf, d.close)
    return np.argsort(np.argsort(x, axis=0), axis=0).astype(float)
