"""Bodies of the account endpoints (the password rules are registration's)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

# The same strength rule as registration (`RegisterRequest.password`).
NEW_PASSWORD = Field(min_length=8, max_length=256, description="At least 8 characters")


class SetupState(BaseModel):
    """`needs_admin`: the database has no account yet; the first one registered becomes the admin."""

    needs_admin: bool


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = NEW_PASSWORD
    # This session's refresh token: it keeps working; every other session is signed out.
    refresh_token: str | None = Field(default=None, max_length=512)


class ResetLink(BaseModel):
    """Shown once to the admin to pass on (no mail server is assumed)."""

    token: str
    path: str = Field(description="The web app's page that sets the new password with this token")
    expires_at: datetime


class PasswordReset(BaseModel):
    token: str = Field(min_length=16, max_length=512)
    new_password: str = NEW_PASSWORD
