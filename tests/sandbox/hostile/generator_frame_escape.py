"""Hostile: Walks generator frames to the caller's globals."""
# expect: policy
# sandbox-alone: policy_violation


def factor(d):
    g = (x for x in [1])
    frame = g.gi_frame.f_back
    frame.f_globals['__builtins__']
    return d.close
