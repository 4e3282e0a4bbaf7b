"""Hostile: Calls os.system."""
# expect: policy
# sandbox-alone: policy_violation
import os


def factor(d):
    os.system('true')
    return d.close
