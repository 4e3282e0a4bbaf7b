"""Hostile: Ignores SIGTERM, then spins."""
# expect: policy
# sandbox-alone: policy_violation
import signal


def factor(d):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass
