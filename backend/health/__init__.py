"""Liveness and readiness: `GET /` and `GET /health`."""
