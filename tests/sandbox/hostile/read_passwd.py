"""Hostile: Reads /etc/passwd."""
# expect: policy
# sandbox-alone: policy_violation


def factor(d):
    text = open('/etc/passwd').read()
    return d.close * len(text)
