"""Hostile: Imports os through __import__."""
# expect: policy
# sandbox-alone: policy_violation


def factor(d):
    __import__('os').system('true')
    return d.close
