"""Integrations: CRUD, the type registry, connection tests, and turning records into connector contexts."""
