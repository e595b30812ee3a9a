"""The integration types Switchboard knows, filled in by each connector package.

Each built-in package exposes `CONNECTOR` in its `connector` module; the registry imports them
lazily so that importing `tools` stays cheap and one broken optional package cannot hide the rest.
"""

from __future__ import annotations

import importlib
from functools import cache

from tools.base import Connector

BUILTIN_CONNECTOR_MODULES: tuple[str, ...] = (
    "tools.jira.connector",
    "tools.fhir.connector",
    "tools.hl7.connector",
)


class UnknownIntegrationType(KeyError):
    """No connector is registered under that type name."""


@cache
def connectors() -> dict[str, Connector]:
    """Every registered connector by type name, in a stable order."""
    found: dict[str, Connector] = {}
    for module_name in BUILTIN_CONNECTOR_MODULES:
        module = importlib.import_module(module_name)
        connector: Connector = module.CONNECTOR
        found[connector.type_name] = connector
    return found


def get_connector(type_name: str) -> Connector:
    """The connector for `type_name`, or `UnknownIntegrationType`."""
    try:
        return connectors()[type_name]
    except KeyError:
        raise UnknownIntegrationType(type_name) from None
