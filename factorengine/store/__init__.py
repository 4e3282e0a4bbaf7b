"""One run in one SQLite file: the Store, its typed rows and events, and the schema it keeps on disk."""
from factorengine.store.events import (
                                       Duplicate,
                                       Event,
                                       EventRow,
                                       IslandStarted,
                                       LLMFallback,
                                       LLMFault,
                                       Migration,
                                       ProposalFailed,
                                       Seeds,
                                       Segments,
                                       Stopped,
)
from factorengine.store.rows import (
                                       OK,
                                       EvaluationRow,
                                       ExperienceRow,
                                       LLMCallRow,
                                       LLMTotals,
                                       NodeRow,
                                       ProfileRow,
                                       RunInfo,
                                       TrialRow,
                                       TuningRow,
)
from factorengine.store.schema import SCHEMA_VERSION, StoreError
from factorengine.store.store import RUN_DATABASE, Store

__all__ = ["OK", "RUN_DATABASE", "SCHEMA_VERSION", "Duplicate", "EvaluationRow", "Event", "EventRow",
           "ExperienceRow", "IslandStarted", "LLMCallRow", "LLMFallback", "LLMFault", "LLMTotals", "Migration",
           "NodeRow", "ProfileRow", "ProposalFailed", "RunInfo", "Seeds", "Segments", "Stopped", "Store",
           "StoreError", "TrialRow", "TuningRow"]
