"""Topologies name, for each island, the islands it receives payloads from."""
from islands import TOPOLOGIES, all_to_all, ring


def test_ring_island_receives_from_its_predecessor():
    assert ring(1) == {0: ()}
    assert ring(2) == {0: (1,), 1: (0,)}
    assert ring(3) == {0: (2,), 1: (0,), 2: (1,)}


def test_all_to_all_island_receives_from_every_other_island():
    assert all_to_all(1) == {0: ()}
    assert all_to_all(2) == {0: (1,), 1: (0,)}
    assert all_to_all(3) == {0: (1, 2), 1: (0, 2), 2: (0, 1)}


def test_topologies_are_found_by_name():
    assert TOPOLOGIES == {"ring": ring, "all": all_to_all}
