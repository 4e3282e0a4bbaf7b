"""Run untrusted program text in disposable child processes under a caller-given policy.

Generic: this package never imports `factorengine`.
"""
