"""Hostile: Ends the process with sys.exit."""
# expect: policy
# sandbox-alone: policy_violation
import sys


def factor(d):
    sys.exit(0)
