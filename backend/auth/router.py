"""`/api/v1/auth`: register, login (form or JSON), refresh, logout, me."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import ValidationError

from backend.audit.service import record_audit
from backend.deps import ContextDep, SessionDep, SignedInUser
from backend.errors import Unauthorized, ValidationFailed
from backend.platform.login_throttle import LoginThrottle, account_key
from backend.platform.rate_limit_deps import client_ip

from . import service
from .schemas import LoginRequest, RefreshRequest, RegisterRequest, RegistrationPolicyOut, TokenPair, UserOut

router = APIRouter(prefix="/auth", tags=["auth"])


@router.get("/registration", response_model=RegistrationPolicyOut)
async def registration_policy(ctx: ContextDep) -> RegistrationPolicyOut:
    """Who may register here (`REGISTRATION`): for a sign-up form to show the right thing."""
    policy = ctx.settings.registration_policy
    return RegistrationPolicyOut(
        policy=policy, invite_required=policy == "invite", approval_required=policy == "approval"
    )


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
async def register(body: RegisterRequest, session: SessionDep, ctx: ContextDep) -> Any:
    """Create an account under the registration policy. The first account on an empty database becomes
    the admin; under `approval` the account is `pending` until an admin approves it."""
    return await service.register(session, body, ctx.settings)


async def _login_body(request: Request) -> LoginRequest:
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("application/json"):
            raw: Any = json.loads(await request.body() or b"null")
        else:
            form = await request.form()
            raw = {"username": form.get("username"), "password": form.get("password")}
        return LoginRequest.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else [{"msg": "Malformed JSON body"}]
        raise ValidationFailed([{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in errors]) from None


@router.post(
    "/login",
    response_model=TokenPair,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": LoginRequest.model_json_schema()},
                "application/x-www-form-urlencoded": {"schema": LoginRequest.model_json_schema()},
            },
            "required": True,
        }
    },
)
async def login(request: Request, session: SessionDep, ctx: ContextDep) -> TokenPair:
    """Sign in with username (or email) and password, as a form or as JSON. Failed attempts are
    throttled per account and per client IP (429 `login_throttled` with `Retry-After`)."""
    body = await _login_body(request)
    throttle: LoginThrottle | None = ctx.extras.get("login_throttle")
    ip = client_ip(request)
    account = await account_key(session, body.username)
    if throttle is not None:
        await throttle.check(account, ip)
    try:
        user = await service.authenticate(session, body.username, body.password)
    except Unauthorized:
        if throttle is not None:
            await throttle.failed(account, ip)
        raise
    if throttle is not None:
        await throttle.succeeded(account)
    await record_audit(session, action="auth.login", actor=user)
    return await service.issue_tokens(session, user, ctx.settings)


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshRequest, request: Request, session: SessionDep, ctx: ContextDep) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one stops working. Invalid tokens count as
    failed sign-ins of the client IP."""
    throttle: LoginThrottle | None = ctx.extras.get("login_throttle")
    ip = client_ip(request)
    if throttle is not None:
        await throttle.check(None, ip)
    try:
        return await service.rotate_refresh_token(session, body.refresh_token, ctx.settings)
    except Unauthorized:
        if throttle is not None:
            await throttle.failed(None, ip)
        raise


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, user: SignedInUser, session: SessionDep) -> None:
    """Revoke the refresh token (and its rotation family)."""
    await service.revoke_refresh_token(session, body.refresh_token, user)
    await record_audit(session, action="auth.logout", actor=user)


@router.get("/me", response_model=UserOut)
async def me(user: SignedInUser) -> Any:
    """The signed-in user; a pending account sees `approval_status: pending` here (and 403
    `account_pending` everywhere else)."""
    return user
