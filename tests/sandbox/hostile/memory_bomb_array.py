"""Hostile: Allocates 800 GB."""
# expect: memory
# sandbox-alone: memory
import numpy as np


def factor(d):
    x = np.ones((10**6, 10**5))
    return x[:1]
