"""The `/api/v1` router: every domain router mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter

from backend.admin.overview import router as admin_overview_router
from backend.admin.users import router as admin_users_router
from backend.audit.router import router as audit_router
from backend.auth.router import router as auth_router
from backend.chat.router import router as chat_router
from backend.hl7.router import router as hl7_router
from backend.integrations.router import router as integrations_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth_router)
api_router.include_router(integrations_router)
api_router.include_router(chat_router)
api_router.include_router(hl7_router)
api_router.include_router(admin_users_router)
api_router.include_router(admin_overview_router)
api_router.include_router(audit_router)
