"""Hostile: Sleeps for thirty years."""
# expect: policy
# sandbox-alone: policy_violation
import time


def factor(d):
    time.sleep(1e9)
