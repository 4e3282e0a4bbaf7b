"""Hostile: Overwrites the input panel with np.copyto."""
# expect: raised
# sandbox-alone: raised
import numpy as np


def factor(d):
    np.copyto(d.close, 0.0)
    return d.close
