"""ORM models, one table per module; importing this package registers them all on `Base.metadata`."""

from backend.models.access import IntegrationGrant, UserGroup, UserGroupMember
from backend.models.api_key import ApiKey
from backend.models.audit import AuditEvent
from backend.models.chat import ChatEvent, ChatMessage, ChatSession
from backend.models.hl7 import Hl7Delivery, Hl7Message
from backend.models.hl7_channel import Hl7Channel, Hl7Queue
from backend.models.integration import Integration
from backend.models.invite import RegistrationInvite
from backend.models.password_reset import PasswordResetToken
from backend.models.refresh_token import RefreshToken
from backend.models.user import User
from backend.models.webhook import Webhook, WebhookDelivery

__all__ = [
    "ApiKey",
    "AuditEvent",
    "ChatEvent",
    "ChatMessage",
    "ChatSession",
    "Hl7Channel",
    "Hl7Delivery",
    "Hl7Message",
    "Hl7Queue",
    "Integration",
    "IntegrationGrant",
    "PasswordResetToken",
    "RefreshToken",
    "RegistrationInvite",
    "User",
    "UserGroup",
    "UserGroupMember",
    "Webhook",
    "WebhookDelivery",
]
