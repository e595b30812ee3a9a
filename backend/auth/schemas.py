"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class RegisterRequest(BaseModel):
    email: EmailStr
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=256)
    full_name: str | None = Field(default=None, max_length=200)
    invite_token: str | None = Field(
        default=None, min_length=1, max_length=200, description="An admin's invite (required under REGISTRATION=invite)"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "username": "ada", "password": "correct horse battery"}]
        }
    )


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=320, description="Username or email")
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    username: str
    full_name: str | None
    role: str
    is_verified: bool
    is_active: bool
    approval_status: Literal["approved", "pending", "rejected"] = Field(
        description="pending: registered under REGISTRATION=approval and waiting for an admin; "
        "until approved every other route answers 403 account_pending"
    )
    created_at: datetime


class RegistrationPolicyOut(BaseModel):
    policy: Literal["open", "approval", "invite", "closed"]
    invite_required: bool
    approval_required: bool
