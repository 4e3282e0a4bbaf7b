"""Leak: np.gradient uses central differences (tomorrow's value)."""
import numpy as np


def factor(d):
    return np.gradient(d.close, axis=0) / d.close
