"""The LLM proposer: OpenAI-compatible client, prompts, answers, cache and replay, and a scripted server."""
