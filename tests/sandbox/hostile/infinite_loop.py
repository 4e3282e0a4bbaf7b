"""Hostile: Spins forever."""
# expect: timeout
# sandbox-alone: timeout


def factor(d):
    while True:
        pass
