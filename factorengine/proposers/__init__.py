"""Proposers: turn a program and its chain of experience into a new program (`mutate` offline, `llm` online)."""
from factorengine.proposers.base import Context, Proposal, ProposalFailure, Proposer, Step
from factorengine.proposers.mutate import MutationProposer

__all__ = ["Context", "MutationProposer", "Proposal", "ProposalFailure", "Proposer", "Step"]
