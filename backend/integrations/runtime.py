"""From a stored integration to what a connector needs: validated config, decrypted credentials."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from backend.context import AppContext
from backend.models.integration import Integration
from tools.base import Connector, IntegrationContext
from tools.errors import ConnectorConfigError, OutboundBlocked
from tools.net import OutboundPolicy
from tools.registry import get_connector


def decrypt_credentials(integration: Integration, app: AppContext) -> dict[str, Any] | None:
    if not integration.credentials_encrypted:
        return None
    return app.cipher.decrypt(integration.credentials_encrypted)


def integration_context(integration: Integration, app: AppContext) -> IntegrationContext:
    """A connector context; raises `ConnectorConfigError` when the stored record no longer validates."""
    connector = get_connector(integration.integration_type)
    try:
        config, credentials = connector.validate(integration.config, decrypt_credentials(integration, app))
    except ValidationError as exc:
        raise ConnectorConfigError(f"The stored configuration is invalid: {exc.errors()[0]['msg']}") from exc
    return IntegrationContext(
        id=str(integration.id),
        name=integration.name,
        integration_type=integration.integration_type,
        config=config,
        credentials=credentials,
        outbound=app.outbound,
    )


async def check_outbound_targets(connector: Connector, config: Any, policy: OutboundPolicy) -> None:
    """Refuse (OutboundBlocked) an integration whose targets are private and not allow-listed."""
    for target in connector.outbound_urls(config):
        parts = urlsplit(target if "://" in target else f"tcp://{target}")
        if parts.scheme in ("http", "https"):
            await policy.check_url(target)
        elif parts.hostname:
            await policy.check_host(parts.hostname, parts.port)
        else:  # never let a target we cannot read through the guard
            raise OutboundBlocked(f"Cannot tell which host {target!r} points to.")
