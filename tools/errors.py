"""The connector exception tree.

Every failure talking to an external system becomes one of these. `code` is the stable machine code
the API returns; `message` is a sentence a person can act on; `remediation` says what to fix.
Tools turn them into text for the model (`for_model`), test-connection turns them into failed steps.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class: something went wrong talking to an integration's system."""

    code: str = "integration_error"
    http_status: int = 502

    def __init__(
        self,
        message: str,
        *,
        remediation: str | None = None,
        upstream_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remediation = remediation
        self.upstream_status = upstream_status

    def for_model(self) -> str:
        """The error as a tool result the model can explain to the user."""
        text = f"Error [{self.code}]: {self.message}"
        if self.remediation:
            text += f" Suggested fix: {self.remediation}"
        return text


class ConnectorConfigError(ConnectorError):
    """The integration's configuration or credentials are invalid before any call is made."""

    code = "integration_misconfigured"
    http_status = 422


class OutboundBlocked(ConnectorError):
    """The target address is private/loopback/link-local and not allow-listed (SSRF guard)."""

    code = "outbound_blocked"
    http_status = 422


class ConnectorUnreachable(ConnectorError):
    """DNS failure, connection refused, TLS failure: the system could not be reached."""

    code = "integration_unreachable"


class ConnectorTimeout(ConnectorError):
    """The system did not answer in time."""

    code = "integration_timeout"
    http_status = 504


class ConnectorAuthError(ConnectorError):
    """The system rejected the credentials (401, invalid_client, ...)."""

    code = "integration_auth_failed"


class ConnectorPermissionError(ConnectorError):
    """Authenticated, but not allowed to do this (403)."""

    code = "integration_forbidden"


class ConnectorNotFound(ConnectorError):
    """The thing asked for does not exist in the external system (404)."""

    code = "not_found"
    http_status = 404


class ConnectorBadRequest(ConnectorError):
    """The external system refused the request as invalid (bad JQL, missing required field...)."""

    code = "integration_bad_request"
    http_status = 400


class ConnectorRateLimited(ConnectorError):
    """The system kept answering 429/503 after our bounded retries."""

    code = "integration_rate_limited"
    http_status = 503


class ConnectorProtocolError(ConnectorError):
    """The system answered, but not like the protocol says (not a Jira, not FHIR, bad ACK...)."""

    code = "integration_protocol_error"
