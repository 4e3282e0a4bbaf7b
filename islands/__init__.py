"""Supervise N island worker processes and move opaque payloads between them.

Generic: this package never imports `factorengine`.
"""
