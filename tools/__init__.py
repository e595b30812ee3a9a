"""Integration connectors (Jira, FHIR, HL7) and their LangChain tool wrappers.

This package imports nothing from `agents` or `backend`: it speaks the external protocols and
exposes typed clients, tools and demo sandboxes behind the small contract in `tools.base`.
"""
