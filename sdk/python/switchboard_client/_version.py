"""The package version (kept in one place; pyproject.toml carries the same number)."""

__version__ = "0.1.0"
USER_AGENT = f"switchboard-client/{__version__}"
