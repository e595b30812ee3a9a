"""The Switchboard agent: LangGraph agent factory, model providers and the offline model.

Imports `tools`, never `backend`.
"""
