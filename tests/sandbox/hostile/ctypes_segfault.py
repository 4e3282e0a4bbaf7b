"""Hostile: Dereferences NULL through ctypes."""
# expect: policy
# sandbox-alone: policy_violation
import ctypes


def factor(d):
    ctypes.string_at(0)
    return d.close
