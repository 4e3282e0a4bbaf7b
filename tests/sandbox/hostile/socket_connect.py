"""Hostile: Phones home on 127.0.0.1."""
# expect: policy
# sandbox-alone: policy_violation
import socket


def factor(d):
    s = socket.socket()
    s.connect(('127.0.0.1', 9))
    return d.close
