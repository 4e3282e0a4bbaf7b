"""Hostile: Forks until the machine dies."""
# expect: policy
# sandbox-alone: policy_violation
import os


def factor(d):
    while True:
        os.fork()
