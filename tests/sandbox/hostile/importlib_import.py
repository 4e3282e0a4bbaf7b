"""Hostile: Imports os through importlib."""
# expect: policy
# sandbox-alone: policy_violation
import importlib


def factor(d):
    importlib.import_module('os')
    return d.close
