"""Hostile: Climbs to object and walks its subclasses to find os."""
# expect: policy
# sandbox-alone: policy_violation


def factor(d):
    for cls in ().__class__.__bases__[0].__subclasses__():
        if cls.__name__ == '_wrap_close':
            cls.__init__.__globals__['system']('true')
    return d.close
