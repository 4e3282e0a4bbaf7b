"""Supervise N island worker processes and move opaque payloads between them.

Generic: this package never imports `factorengine`.
"""
from islands.mailbox import Mailbox, Stopped
from islands.supervisor import IslandEvent, IslandOutcome, IslandsResult, run_islands
from islands.topology import TOPOLOGIES, Topology, all_to_all, ring

__all__ = ["IslandEvent", "IslandOutcome", "IslandsResult", "Mailbox", "Stopped", "TOPOLOGIES",
           "Topology", "all_to_all", "ring", "run_islands"]
