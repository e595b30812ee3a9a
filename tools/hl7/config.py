"""The `hl7` integration's settings, its optional TLS credentials, and the MLLP client they describe."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.base import IntegrationContext
from tools.hl7.mllp import MllpClient

Hl7Version = Literal["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"]


class Hl7Config(BaseModel):
    host: str = Field(min_length=1, max_length=253, description="Host of the receiving MLLP endpoint")
    port: int = Field(ge=1, le=65535, description="MLLP port (2575 is customary)")
    tls: bool = Field(default=False, description="Wrap the MLLP connection in TLS")
    sending_application: str = Field(default="SWITCHBOARD", max_length=180)
    sending_facility: str = Field(default="SWITCHBOARD", max_length=180)
    receiving_application: str = Field(default="", max_length=180)
    receiving_facility: str = Field(default="", max_length=180)
    version: Hl7Version = "2.5.1"
    timeout_s: float = Field(default=10.0, ge=0.5, le=120, description="Connect and ACK timeout in seconds")
    min_interval_ms: int = Field(
        default=0,
        ge=0,
        le=60_000,
        description="Pacing: at least this long between two sends to this destination, per server process "
        "(0 = as fast as the receiver ACKs)",
    )


class Hl7Credentials(BaseModel):
    model_config = ConfigDict(json_schema_extra={"description": "Only needed for TLS with a private CA."})

    tls_ca_pem: str | None = Field(
        default=None, max_length=20_000, json_schema_extra={"writeOnly": True, "format": "password"}
    )


def test_message(config: Hl7Config) -> str:
    """A QRY^A19 patient query: harmless for the receiver, and it must answer with an ACK."""
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    control = f"SBTEST{now}"
    return "\r".join(
        [
            f"MSH|^~\\&|{config.sending_application}|{config.sending_facility}|{config.receiving_application}|"
            f"{config.receiving_facility}|{now}||QRY^A19|{control}|P|{config.version}",
            f"QRD|{now}|R|I|{control}|||1^RD|SWITCHBOARD-CONNECTION-TEST|DEM",
        ]
    )


def client_for(ctx: IntegrationContext) -> MllpClient:
    config = ctx.config
    assert isinstance(config, Hl7Config)
    tls = None
    if config.tls:
        credentials = ctx.credentials if isinstance(ctx.credentials, Hl7Credentials) else None
        tls = ssl.create_default_context(
            cadata=credentials.tls_ca_pem if credentials and credentials.tls_ca_pem else None
        )
    return MllpClient(config.host, config.port, timeout_s=config.timeout_s, tls=tls, outbound=ctx.outbound)
