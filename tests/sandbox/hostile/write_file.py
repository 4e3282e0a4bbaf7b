"""Hostile: Writes a file."""
# expect: policy
# sandbox-alone: policy_violation


def factor(d):
    open('/tmp/factorengine_owned', 'w').write('x')
    return d.close
