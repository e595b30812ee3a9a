"""SMART Backend Services against the sandbox's token endpoint: good key, wrong key, expired or
mis-addressed assertions, replay, token caching, and the connection test's steps."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwt

from tests.tools.fhir.fhir_sandboxes import Sandboxes
from tools.errors import ConnectorAuthError, ConnectorConfigError
from tools.fhir.auth import ASSERTION_TYPE, TokenCache
from tools.fhir.client import FhirClient
from tools.fhir.config import EmrConfig, EmrCredentials
from tools.fhir.connector import CONNECTOR
from tools.fhir.demo import DEMO_CLIENT_ID, generate_rsa_key_pair


def _epic_client(sandboxes: Sandboxes, tokens: TokenCache, **credentials: str) -> FhirClient:
    spec = sandboxes.epic_spec
    config = EmrConfig.model_validate(spec.config)
    creds = EmrCredentials.model_validate({**(spec.credentials or {}), **credentials})
    return FhirClient(config, creds, outbound=sandboxes.context(0).outbound, tokens=tokens)


async def _token_request(sandboxes: Sandboxes, claims: dict[str, object]) -> httpx.Response:
    token_url = sandboxes.epic_spec.config["base_url"] + "/auth/token"
    assertion = jwt.encode(claims, sandboxes.demo.keys.private_pem, algorithm="RS384")
    async with httpx.AsyncClient() as http:
        return await http.post(
            token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
                "scope": "system/*.read",
            },
        )


def _claims(sandboxes: Sandboxes, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": DEMO_CLIENT_ID,
        "sub": DEMO_CLIENT_ID,
        "aud": sandboxes.epic_spec.config["base_url"] + "/auth/token",
        "jti": uuid.uuid4().hex,
        "exp": now + 120,
        **overrides,
    }


async def test_registered_key_gets_a_token_that_is_cached(sandboxes: Sandboxes) -> None:
    tokens = TokenCache()
    async with _epic_client(sandboxes, tokens) as fhir:
        assert (await fhir.read("Patient", "eHQ1001"))["id"] == "eHQ1001"
        await fhir.search("Condition", {"patient": "eHQ1001"})
    async with _epic_client(sandboxes, tokens) as fhir:  # a new client, the same cache
        await fhir.read("Patient", "eMV1002")
    assert sandboxes.demo.epic.tokens_issued == 1


async def test_unauthenticated_call_is_refused(sandboxes: Sandboxes) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(sandboxes.epic_spec.config["base_url"] + "/Patient/eHQ1001")
    assert response.status_code == 401 and response.json()["resourceType"] == "OperationOutcome"


async def test_wrong_key_is_refused_with_the_usual_causes(sandboxes: Sandboxes) -> None:
    stranger = generate_rsa_key_pair()
    async with _epic_client(sandboxes, TokenCache(), private_key_pem=stranger.private_pem) as fhir:
        with pytest.raises(ConnectorAuthError) as caught:
            await fhir.read("Patient", "eHQ1001")
    assert "invalid_client" in caught.value.message and "signature" in caught.value.message
    assert caught.value.remediation is not None and "aud" in caught.value.remediation
    assert "not registered" in caught.value.remediation or "registered" in caught.value.remediation


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 30}, "expired"),
        ({"aud": "https://elsewhere.example/token"}, "expected aud"),
        ({"iss": "someone-else", "sub": "someone-else"}, "not registered"),
        ({"sub": "not-the-client"}, "iss and sub"),
        ({"exp": int(time.time()) + 3600}, "five minutes"),
    ],
)
async def test_token_endpoint_verifies_the_assertion(
    sandboxes: Sandboxes, overrides: dict[str, object], reason: str
) -> None:
    response = await _token_request(sandboxes, _claims(sandboxes, **overrides))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client" and reason in response.json()["error_description"]


async def test_a_replayed_assertion_is_refused(sandboxes: Sandboxes) -> None:
    claims = _claims(sandboxes)
    assert (await _token_request(sandboxes, claims)).status_code == 200
    replay = await _token_request(sandboxes, claims)
    assert replay.status_code == 401 and "jti" in replay.json()["error_description"]


async def test_connection_test_reports_each_step(sandboxes: Sandboxes) -> None:
    result = await CONNECTOR.test_connection(sandboxes.context(0))
    assert result.ok, result
    assert [s.name for s in result.steps] == [
        "resolve",
        "SMART discovery",
        "authenticate",
        "capability statement",
        "sample search",
    ]
    assert result.details["fhir_version"] == "4.0.1"
    assert result.details["software"] == "Epic-like FHIR sandbox 1.0"
    assert "Observation" in result.details["resources"] and result.latency_ms > 0

    open_result = await CONNECTOR.test_connection(sandboxes.context(1))
    assert open_result.ok and [s.name for s in open_result.steps][1] == "capability statement"


async def test_connection_test_with_an_unregistered_key_fails_at_authenticate(sandboxes: Sandboxes) -> None:
    stranger = generate_rsa_key_pair()
    spec = sandboxes.epic_spec
    config, credentials = CONNECTOR.validate(spec.config, {"private_key_pem": stranger.private_pem, "key_id": "x"})
    ctx = sandboxes.context(0)
    result = await CONNECTOR.test_connection(
        type(ctx)(
            id="x", name="Epic", integration_type="emr", config=config, credentials=credentials, outbound=ctx.outbound
        )
    )
    assert not result.ok and result.error_code == "integration_auth_failed"
    failed = result.steps[-1]
    assert failed.name == "authenticate" and not failed.ok
    assert failed.remediation and "aud" in failed.remediation and "expired" in failed.remediation


def test_config_rules() -> None:
    with pytest.raises(ConnectorConfigError, match="needs client_id, private_key_pem"):
        CONNECTOR.validate({"base_url": "https://fhir.example.org/r4", "auth": "smart_backend"}, None)
    with pytest.raises(ConnectorConfigError, match="not a readable"):
        CONNECTOR.validate(
            {"base_url": "https://fhir.example.org/r4", "auth": "smart_backend", "client_id": "c"},
            {"private_key_pem": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"},
        )
    with pytest.raises(ConnectorConfigError, match="ES384 needs an EC"):
        CONNECTOR.validate(
            {
                "base_url": "https://fhir.example.org/r4",
                "auth": "smart_backend",
                "client_id": "c",
                "jwt_algorithm": "ES384",
            },
            {"private_key_pem": generate_rsa_key_pair().private_pem},
        )
    with pytest.raises(ConnectorConfigError, match="needs token"):
        CONNECTOR.validate({"base_url": "https://fhir.example.org/r4", "auth": "bearer"}, {})
    config, _ = CONNECTOR.validate({"base_url": "https://fhir.example.org/r4/", "auth": "none"}, None)
    assert CONNECTOR.outbound_urls(config) == ["https://fhir.example.org/r4"]


async def test_es384_key_works_end_to_end(sandboxes: Sandboxes) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    sandboxes.demo.epic.clients["ec-client"] = public
    config, credentials = CONNECTOR.validate(
        {**sandboxes.epic_spec.config, "client_id": "ec-client", "jwt_algorithm": "ES384"},
        {"private_key_pem": private, "key_id": "ec-1"},
    )
    assert isinstance(config, EmrConfig) and isinstance(credentials, EmrCredentials)
    outbound = sandboxes.context(1).outbound
    async with FhirClient(config, credentials, outbound=outbound, tokens=TokenCache()) as fhir:
        assert (await fhir.read("Patient", "ePL1005"))["birthDate"] == "2001-07-22"
