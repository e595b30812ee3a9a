"""The agent evaluation harness behind `switchboard eval`.

It loads conversation cases (YAML, `tests/evals/cases/`), starts a fresh demo environment (a new
database, the connectors' demo sandboxes on loopback, a test user), plays every case through the
product's own turn machinery in a fresh chat session, and scores the answers: task success, tool-call
precision/recall (trajectory matching with `agentevals`), hallucinated identifiers, turns with errors,
latency and tokens. See docs/evals.md.
"""
