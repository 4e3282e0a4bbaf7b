"""Hostile: Reads builtins through a function's globals."""
# expect: policy
# sandbox-alone: policy_violation


def factor(d):
    def f():
        return 0
    f.__globals__['__builtins__']['open']('/etc/passwd')
    return d.close
