"""Hostile: Fetches numpy's file loader by a computed name."""
# expect: policy
# sandbox-alone: policy_violation
import numpy as np


def factor(d):
    loader = getattr(np, 'lo' + 'ad')
    return loader('/etc/passwd')
