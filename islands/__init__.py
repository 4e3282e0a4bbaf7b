"""Supervise N island workers (processes, or Ray actors) and move opaque payloads between them.

Generic: this package never imports `factorengine`.
"""
from islands.cluster import ClusterUnreachable, check_address
from islands.events import IslandEvent, IslandOutcome, IslandsResult
from islands.mailbox import Mailbox, Stopped
from islands.supervisor import BACKENDS, run_islands
from islands.topology import TOPOLOGIES, Topology, all_to_all, ring

__all__ = ["BACKENDS", "TOPOLOGIES", "ClusterUnreachable", "IslandEvent", "IslandOutcome", "IslandsResult", "Mailbox",
           "Stopped", "Topology", "all_to_all", "check_address", "ring", "run_islands"]
