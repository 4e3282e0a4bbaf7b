"""Hostile: Burns CPU in numpy forever."""
# expect: timeout
# sandbox-alone: timeout
import numpy as np


def factor(d):
    x = np.arange(1000.0)
    while True:
        x = np.sort(x)[::1]
