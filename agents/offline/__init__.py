"""A deterministic chat model that needs no network: it reads the user's intent, calls real tools
and writes a grounded markdown answer from their results. Used when no LLM API key is configured.
"""
