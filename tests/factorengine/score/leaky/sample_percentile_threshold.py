"""Leak: volume above its full-sample 90th percentile."""
import numpy as np


def factor(d):
    cut = np.nanpercentile(d.volume, 90, axis=0)
    return (d.volume > cut).astype(float) + d.returns
