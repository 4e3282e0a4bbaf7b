"""Typed events: the kind and JSON each is stored as (the format older runs hold), and their round trip."""
import pytest

from factorengine.store import (Duplicate, IslandStarted, LLMFallback, LLMFault, Migration, ProposalFailed, Seeds,
                                Segments, Stopped, StoreError)
from factorengine.store.events import EVENTS, decode_event, encode_event

STORED = [
    (Seeds((("momentum", "def factor(d):\n    return d.close\n"),)),
     "seeds", '{"seeds":[["momentum","def factor(d):\\n    return d.close\\n"]]}'),
    (Segments((("train", "2016-01-04", "2017-09-28", 454, 5), ("valid", "2017-10-02", "2018-04-27", 150, 0),
               ("test", "2018-05-01", "2018-11-26", 150, 0))), "segments",
     '{"ranges":[["train","2016-01-04","2017-09-28",454,5],["valid","2017-10-02","2018-04-27",150,0],'
     '["test","2018-05-01","2018-11-26",150,0]]}'),
    (IslandStarted(4242), "island_started", '{"pid":4242}'),
    (Migration(2, ((1, 1000000004, 9), (1, 1000000006, None))), "migration",
     '{"received":[[1,1000000004,9],[1,1000000006,null]],"round":2}'),
    (ProposalFailed("no code block"), "proposal_failed", '{"detail":"no code block","evaluations":0}'),
    (Duplicate("duplicate of node 3 by its values", 1), "duplicate",
     '{"detail":"duplicate of node 3 by its values","evaluations":1}'),
    (Stopped("budget spent"), "stopped", '{"detail":"budget spent"}'),
    (LLMFault("propose", 2, "HTTP 429: slow down"), "llm_fault",
     '{"attempt":2,"fault":"HTTP 429: slow down","purpose":"propose"}'),
    (LLMFallback("LLM unavailable"), "llm_fallback", '{"reason":"LLM unavailable"}'),
]


@pytest.mark.parametrize("event, kind, payload", STORED, ids=[kind for _, kind, _ in STORED])
def test_an_event_is_stored_as_its_kind_and_json_and_reads_back_equal(event, kind, payload):
    assert encode_event(event) == (kind, payload)
    assert decode_event(kind, payload) == event


def test_every_event_kind_is_covered():
    assert sorted(EVENTS) == sorted(kind for _, kind, _ in STORED)


def test_a_rejection_written_without_its_evaluations_reads_as_none_spent():
    assert decode_event("duplicate", '{"detail":"same code"}') == Duplicate("same code", 0)


def test_an_unknown_event_kind_is_refused_by_name():
    with pytest.raises(StoreError, match="unknown kind 'patience'"):
        decode_event("patience", "{}")


@pytest.mark.parametrize("payload", ['{"detail": "x", "round": 3}', "[1, 2]", "not json"])
def test_an_event_whose_payload_does_not_fit_its_kind_is_refused_by_name(payload):
    with pytest.raises(StoreError, match="a 'stopped' event that does not read back"):
        decode_event("stopped", payload)
