"""Switchboard's FastAPI service: auth, users, chat sessions, integrations, HL7 engine, streaming."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("switchboard")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
