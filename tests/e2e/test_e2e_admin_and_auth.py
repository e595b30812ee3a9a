"""Signing in and out, and the admin screens (hidden from normal users, whose API calls are refused)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.support import DESKTOP, Account, LiveServer, register_via_api, shoot, sign_in_context

pytestmark = pytest.mark.e2e

ADT = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|E2E0001|P|2.5.1\rPID|1||PAT-77||DOE^JANE"


def test_sign_in_errors_sign_out_and_back_in(browser: Browser, live_app: LiveServer, user_account: Account) -> None:
    context = browser.new_context(base_url=live_app.url, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_label("Username or email").fill(user_account.username)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text(re.compile("incorrect|invalid", re.IGNORECASE))
        shoot(page, "login-error")
        page.get_by_label("Password").fill(user_account.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("current-user")).to_have_text(user_account.username)
        page.reload()  # the session survives a reload
        expect(page.get_by_test_id("current-user")).to_have_text(user_account.username)
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.reload()  # and signing out sticks
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        assert page.evaluate("localStorage.getItem('switchboard.auth')") is None
    finally:
        context.close()


def test_an_expired_access_token_is_renewed_silently(
    browser: Browser, live_app: LiveServer, user_account: Account
) -> None:
    tokens = user_account.tokens(live_app)  # its own pair: this test rotates the refresh token
    context = browser.new_context(base_url=live_app.url, viewport=DESKTOP)
    try:
        stale = json.dumps(
            {"accessToken": "expired.token.value", "refreshToken": tokens["refresh_token"], "expiresAt": 0}
        )
        context.add_init_script(f"localStorage.setItem('switchboard.auth', {json.dumps(stale)})")
        page = context.new_page()
        refreshed: list[int] = []
        page.on(
            "response",
            lambda response: refreshed.append(response.status) if response.url.endswith("/auth/refresh") else None,
        )
        page.goto("/chat")
        expect(page.get_by_test_id("current-user")).to_have_text(user_account.username)
        expect(page.get_by_test_id("empty-state")).to_be_visible()
        assert refreshed and refreshed[0] == 200, refreshed
        stored = json.loads(page.evaluate("localStorage.getItem('switchboard.auth')"))
        assert stored["accessToken"] != "expired.token.value"
        assert stored["refreshToken"] != tokens["refresh_token"]  # rotated on use
    finally:
        context.close()


def test_register_shows_what_is_wrong(browser: Browser, live_app: LiveServer, admin_account: Account) -> None:
    context = browser.new_context(base_url=live_app.url, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("button", name="Create one").click()
        page.get_by_label("Email").fill("someone@example.com")
        page.get_by_label("Username").fill(admin_account.username)  # taken
        page.get_by_label("Password").fill("long enough password")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("alert")).to_contain_text(re.compile("already", re.IGNORECASE))
    finally:
        context.close()


def test_admin_is_hidden_from_a_normal_user(user_page: Page, user_account: Account, live_app: LiveServer) -> None:
    page = user_page
    page.goto("/chat")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Chat")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.goto("/admin/users")
    expect(page).to_have_url(re.compile(r"/chat$"))
    with live_app.api(user_account) as api:
        for path in ("/admin/users", "/admin/overview", "/audit"):
            response = api.get(path)
            assert response.status_code == 403, path
            assert response.json()["code"] == "forbidden"


def _send_hl7(live_app: LiveServer, admin_account: Account) -> str:
    with live_app.api(admin_account) as api:
        response = api.post(
            "/messages", json={"message": ADT, "metadata": {"source": "e2e", "destination": ["Demo HL7 receiver"]}}
        )
        assert response.status_code == 202, response.text
        return str(response.json()["message_id"])


def test_admin_screens(admin_page: Page, admin_account: Account, user_account: Account, live_app: LiveServer) -> None:
    page = admin_page
    _send_hl7(live_app, admin_account)
    page.goto("/chat")
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_test_id("admin-overview")).to_be_visible()
    expect(page.get_by_test_id("admin-overview")).to_contain_text("Demo HL7 receiver")
    shoot(page, "admin-overview")

    page.get_by_role("link", name="Users").click()
    users = page.get_by_test_id("admin-users")
    expect(users.get_by_test_id("user-row")).not_to_have_count(0)
    nora = users.get_by_test_id("user-row").filter(has_text=user_account.username)
    expect(nora.get_by_label(f"Role of {user_account.username}")).to_have_value("user")
    shoot(page, "admin-users")
    # The last admin cannot demote themself: the refusal is shown and the role stays.
    me = users.get_by_test_id("user-row").filter(has_text=admin_account.username)
    me.get_by_label(f"Role of {admin_account.username}").select_option("user")
    expect(users.get_by_role("alert")).to_contain_text("admin")
    expect(me.get_by_label(f"Role of {admin_account.username}")).to_have_value("admin")

    page.get_by_role("link", name="Audit log").click()
    audit = page.get_by_test_id("admin-audit")
    expect(audit.get_by_test_id("audit-row")).not_to_have_count(0)
    shoot(page, "admin-audit")
    audit.get_by_label("Action (prefix*)").fill("auth.*")
    audit.get_by_label("Action (prefix*)").press("Enter")
    rows = audit.get_by_test_id("audit-row")
    expect(rows.first).to_contain_text("auth.login")
    texts = rows.all_inner_texts()
    assert texts and all("auth." in text for text in texts), texts

    page.get_by_role("link", name="HL7 messages").click()
    hl7 = page.get_by_test_id("admin-hl7")
    row = hl7.get_by_test_id("hl7-row").filter(has_text="E2E0001")
    expect(row).to_contain_text("delivered", timeout=15_000)
    row.get_by_role("button", name="Open message E2E0001").click()
    detail = page.get_by_test_id("hl7-detail")
    expect(detail.get_by_label("Raw message")).to_contain_text("PID|1||PAT-77")
    detail.get_by_role("tab", name="Explain").click()
    explanation = detail.get_by_test_id("hl7-explanation")
    expect(explanation).to_contain_text("ADT^A01")
    expect(explanation.get_by_role("rowheader", name="PID-3")).to_be_visible()
    shoot(page, "admin-hl7")
    detail.get_by_role("button", name="Replay").click()
    expect(detail.get_by_role("status")).to_contain_text("Queued for delivery again")

    page.get_by_role("link", name="Approval policy").click()
    policy = page.get_by_test_id("admin-policy")
    integration_id = (
        policy.get_by_label("Integration").locator("option", has_text="Demo HL7 receiver").get_attribute("value")
    )
    assert integration_id
    policy.get_by_label("Integration").select_option(integration_id)
    send = policy.get_by_test_id("policy-row").filter(has_text="demo_hl7_receiver__send")
    expect(send).to_contain_text("PHI")
    decision = send.get_by_label("Decision for demo_hl7_receiver__send")
    expect(decision).to_have_value("ask")
    decision.select_option("deny")
    shoot(page, "admin-policy")
    policy.get_by_role("button", name="Save policy").click()
    expect(policy.get_by_role("status")).to_have_text("Saved.")
    with live_app.api(user_account) as api:
        tools = api.get(f"/integrations/{integration_id}/tools").json()
    assert {t["name"]: t["effective_decision"] for t in tools}["demo_hl7_receiver__send"] == "deny"
    # Allowing a write to patient data is refused with the reason.
    decision.select_option("allow")
    policy.get_by_role("button", name="Save policy").click()
    expect(policy.get_by_role("alert")).to_contain_text("always asks a person")
    decision.select_option("ask")
    policy.get_by_role("button", name="Save policy").click()
    expect(policy.get_by_role("status")).to_have_text("Saved.")


def test_admin_deactivates_and_reactivates_a_user(
    context: BrowserContext, admin_account: Account, live_app: LiveServer
) -> None:
    temp = register_via_api(live_app, "temp_user")
    sign_in_context(context, live_app, admin_account)
    page = context.new_page()
    page.goto("/admin/users")
    row = page.get_by_test_id("user-row").filter(has_text="temp_user")
    active = row.get_by_label("temp_user is active")
    expect(active).to_be_checked()
    active.uncheck()
    expect(active).not_to_be_checked()
    with live_app.api() as api:
        refused = api.post("/auth/login", json={"username": temp.username, "password": temp.password})
    assert refused.status_code in (401, 403), refused.text
    active.check()
    expect(active).to_be_checked()
    assert temp.tokens(live_app)["access_token"]
