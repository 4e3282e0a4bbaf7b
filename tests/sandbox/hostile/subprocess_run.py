"""Hostile: Runs a shell command."""
# expect: policy
# sandbox-alone: policy_violation
import subprocess


def factor(d):
    subprocess.run(['true'])
    return d.close
