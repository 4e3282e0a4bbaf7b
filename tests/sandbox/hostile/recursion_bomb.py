"""Hostile: Recurses without end."""
# expect: raised
# sandbox-alone: raised


def factor(d):
    def down(n):
        return down(n + 1)
    return down(0)
