"""Hostile: Leaves a thread spinning."""
# expect: policy
# sandbox-alone: policy_violation
import threading


def factor(d):
    threading.Thread(target=lambda: [0 for _ in iter(int, 1)]).start()
    return d.close
