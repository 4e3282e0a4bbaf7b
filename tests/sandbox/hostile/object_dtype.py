"""Hostile: Returns an object array."""
# expect: bad_output
# sandbox-alone: bad_output


def factor(d):
    return d.close.astype('O')
