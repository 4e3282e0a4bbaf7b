"""Hostile: Reaches frames through an exception's traceback."""
# expect: policy
# sandbox-alone: policy_violation


def factor(d):
    try:
        1 / 0
    except ZeroDivisionError as e:
        e.__traceback__.tb_frame.f_globals
    return d.close
