"""Hostile: Reaches open through the builtins module."""
# expect: policy
# sandbox-alone: policy_violation
import builtins


def factor(d):
    builtins.open('/etc/passwd')
    return d.close
