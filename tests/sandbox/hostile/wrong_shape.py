"""Hostile: Returns three stocks only."""
# expect: bad_output
# sandbox-alone: bad_output


def factor(d):
    return d.close[:, :3]
