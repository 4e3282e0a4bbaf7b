"""Hostile: Imports os inside exec."""
# expect: policy
# sandbox-alone: policy_violation


def factor(d):
    exec('import os; os.system("true")')
    return d.close
