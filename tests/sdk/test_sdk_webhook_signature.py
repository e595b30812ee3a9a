"""`verify_webhook_signature`: a known vector (computed with `openssl dgst -sha256 -hmac`), tampering,
replay tolerance and malformed headers."""

from __future__ import annotations

import pytest
from switchboard_client import WebhookVerificationError, compute_signature, verify_webhook_signature

SECRET = "whsec_test_secret"
TIMESTAMP = "1700000000"
BODY = b'{"event":"ping","data":{"id":1}}'
# printf '%s' '1700000000.{"event":"ping","data":{"id":1}}' | openssl dgst -sha256 -hmac whsec_test_secret
KNOWN = "sha256=f1cddfb7c15f3c763ea7e8792d30e92d9363d2ef41027f80b49a2ad5d4776571"
NOW = 1700000000 + 30


def test_known_vector() -> None:
    assert compute_signature(SECRET, TIMESTAMP, BODY) == KNOWN
    assert compute_signature(SECRET.encode(), int(TIMESTAMP), BODY.decode()) == KNOWN
    verify_webhook_signature(SECRET, TIMESTAMP, BODY, KNOWN, now=NOW)
    verify_webhook_signature(SECRET, int(TIMESTAMP), BODY.decode(), KNOWN, now=NOW)
    # During a secret rotation the header may carry several signatures: one match is enough.
    verify_webhook_signature(SECRET, TIMESTAMP, BODY, "sha256=" + "0" * 64 + ", " + KNOWN, now=NOW)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "header"),
    [
        ("another secret", TIMESTAMP, BODY, KNOWN),
        (SECRET, TIMESTAMP, BODY.replace(b"1", b"2"), KNOWN),
        (SECRET, TIMESTAMP, BODY + b"\n", KNOWN),
        (SECRET, "1700000001", BODY, KNOWN),
        (SECRET, TIMESTAMP, BODY, KNOWN[:-1] + "0"),
        (SECRET, TIMESTAMP, BODY, KNOWN.upper()),
        (SECRET, TIMESTAMP, BODY, KNOWN.removeprefix("sha256=")),
        (SECRET, TIMESTAMP, BODY, "sha1=" + KNOWN[7:]),
        (SECRET, TIMESTAMP, BODY, ""),
    ],
)
def test_tampering_is_refused(secret: str, timestamp: str, body: bytes, header: str) -> None:
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook_signature(secret, timestamp, body, header, now=NOW)
    assert caught.value.code == "invalid_signature"


def test_replay_tolerance() -> None:
    verify_webhook_signature(SECRET, TIMESTAMP, BODY, KNOWN, tolerance_s=300, now=1700000000 + 300)
    for now in (1700000000 + 301, 1700000000 - 301):  # too old (a replay) or from the future
        with pytest.raises(WebhookVerificationError) as caught:
            verify_webhook_signature(SECRET, TIMESTAMP, BODY, KNOWN, tolerance_s=300, now=now)
        assert caught.value.code == "timestamp_out_of_tolerance"
    with pytest.raises(WebhookVerificationError):  # real clock: 2023 is long past
        verify_webhook_signature(SECRET, TIMESTAMP, BODY, KNOWN)
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook_signature(SECRET, "yesterday", BODY, KNOWN, now=NOW)
    assert caught.value.code == "invalid_timestamp"
