"""The `/api/v1` router: every domain router mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from backend.account.router import router as account_router
from backend.admin.groups import router as admin_groups_router
from backend.admin.invites import router as admin_invites_router
from backend.admin.overview import router as admin_overview_router
from backend.admin.users import router as admin_users_router
from backend.audit.router import router as audit_router
from backend.auth.router import router as auth_router
from backend.chat.router import router as chat_router
from backend.deps import require_scope
from backend.hl7.channel_router import queues_router as hl7_queues_router
from backend.hl7.channel_router import router as hl7_channels_router
from backend.hl7.channel_router import stats_router as hl7_stats_router
from backend.hl7.router import router as hl7_router
from backend.integrations.access_router import router as integration_access_router
from backend.integrations.policy import router as integration_policy_router
from backend.integrations.router import router as integrations_router
from backend.patients.router import router as patients_router
from backend.platform.api_keys_router import router as api_keys_router
from backend.platform.rate_limit_deps import enforce_rate_limit
from backend.platform.webhooks_router import router as webhooks_router

# Rate limits apply to every route; `require_scope` opens a router to API keys holding that scope
# (a key on any other route gets 403 insufficient_scope).
api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(enforce_rate_limit)])
api_router.include_router(auth_router)
api_router.include_router(account_router)
api_router.include_router(
    integrations_router, dependencies=[Depends(require_scope("integrations:read", "integrations:write"))]
)
api_router.include_router(integration_policy_router)
api_router.include_router(integration_access_router)
# Patient searches and aggregation are POSTs but only read: API keys need `patients:read`.
api_router.include_router(patients_router, dependencies=[Depends(require_scope("patients:read"))])
api_router.include_router(chat_router, dependencies=[Depends(require_scope("chat"))])
api_router.include_router(hl7_router, dependencies=[Depends(require_scope("messages:read", "messages:write"))])
api_router.include_router(hl7_channels_router)  # admins only: closed to API keys
api_router.include_router(hl7_queues_router)
api_router.include_router(hl7_stats_router)
api_router.include_router(admin_users_router)
api_router.include_router(admin_groups_router)
api_router.include_router(admin_invites_router)
api_router.include_router(admin_overview_router)
api_router.include_router(audit_router)
api_router.include_router(api_keys_router)
api_router.include_router(webhooks_router)
