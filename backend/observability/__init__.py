"""Operational signals: Prometheus metrics for requests, streams, runs, tools and queues."""
