"""Hostile: Ends the process with os._exit."""
# expect: policy
# sandbox-alone: policy_violation
import os


def factor(d):
    os._exit(0)
