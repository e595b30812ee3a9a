"""Demo mode's two FHIR sandboxes: "Epic sandbox" (SMART backend services, a key pair generated per
run) and "Cerner sandbox" (open), serving overlapping synthetic patients (see `tools.fhir.seed`)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tools.base import DemoIntegration
from tools.fhir.sandbox import SandboxState, create_sandbox_app, sandbox_state
from tools.sandbox_server import LoopbackServer

DEMO_CLIENT_ID = "switchboard-demo"
DEMO_KEY_ID = "switchboard-demo-key-1"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_rsa_key_pair() -> KeyPair:
    """A fresh RSA key pair (PEM) for a SMART backend client."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(private.decode(), public.decode())


class FhirDemoSandbox:
    """Starts both sandboxes on loopback and describes the demo integrations pointing at them."""

    def __init__(self, *, latency_ms: float = 0.0) -> None:
        self.keys = generate_rsa_key_pair()
        self.epic: SandboxState = sandbox_state(
            "epic", "Epic sandbox", latency_ms=latency_ms, clients={DEMO_CLIENT_ID: self.keys.public_pem}
        )
        self.cerner: SandboxState = sandbox_state("cerner", "Cerner sandbox", latency_ms=latency_ms)
        self._servers = [LoopbackServer(create_sandbox_app(self.epic)), LoopbackServer(create_sandbox_app(self.cerner))]

    async def start(self) -> list[DemoIntegration]:
        epic_url = await self._servers[0].start()
        cerner_url = await self._servers[1].start()
        return [
            DemoIntegration(
                name="Epic sandbox",
                integration_type="emr",
                config={
                    "base_url": epic_url,
                    "vendor": "epic",
                    "auth": "smart_backend",
                    "client_id": DEMO_CLIENT_ID,
                    "scope": "system/*.read",
                },
                credentials={"private_key_pem": self.keys.private_pem, "key_id": DEMO_KEY_ID},
                description="A loopback FHIR R4 sandbox with synthetic patients, behind SMART Backend Services.",
            ),
            DemoIntegration(
                name="Cerner sandbox",
                integration_type="emr",
                config={"base_url": cerner_url, "vendor": "cerner", "auth": "none"},
                credentials=None,
                description="A loopback FHIR R4 sandbox with synthetic patients that overlap the Epic sandbox.",
            ),
        ]

    async def stop(self) -> None:
        for server in reversed(self._servers):
            await server.stop()
