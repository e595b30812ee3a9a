"""The integration types Switchboard knows, filled in by each connector package.

Each built-in package exposes `CONNECTOR` in its `connector` module; the registry imports them
lazily so that importing `tools` stays cheap. A connector package that is not part of this install is
left out (and logged); one that is present but broken fails loudly.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache

from tools.base import Connector

BUILTIN_CONNECTOR_MODULES: tuple[str, ...] = (
    "tools.jira.connector",
    "tools.fhir.connector",
    "tools.hl7.connector",
)


log = logging.getLogger("switchboard.tools")


class UnknownIntegrationType(KeyError):
    """No connector is registered under that type name."""


@cache
def connectors() -> dict[str, Connector]:
    """Every registered connector by type name, in a stable order."""
    found: dict[str, Connector] = {}
    for module_name in BUILTIN_CONNECTOR_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module_name.startswith(exc.name):
                raise  # a dependency of the connector is missing: that is a broken install
            log.info("connector package %s is not installed", module_name)
            continue
        connector: Connector = module.CONNECTOR
        found[connector.type_name] = connector
    return found


def get_connector(type_name: str) -> Connector:
    """The connector for `type_name`, or `UnknownIntegrationType`."""
    try:
        return connectors()[type_name]
    except KeyError:
        raise UnknownIntegrationType(type_name) from None
