"""Hostile: Reads a file with numpy."""
# expect: policy
# sandbox-alone: policy_violation
import numpy as np


def factor(d):
    return np.loadtxt('/etc/passwd')
