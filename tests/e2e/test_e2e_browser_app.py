"""The browser app in the user's language: approvals in plain words, tool labels, live integration
health, the admin's charts, and the account pages (change password, reset link). Screenshots at
1280 and 375 px, light and dark."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.support import DESKTOP, PASSWORD, Account, LiveServer, register_via_api, shoot_themes, sign_in_context
from tests.e2e.test_e2e_chat import start_chat, wait_answered
from tests.e2e.test_e2e_integrations import closed_port
from tests.e2e.test_e2e_jira import demo_jira, sandbox_issues
from tests.e2e.test_e2e_tool_cards import SEND, adt

pytestmark = pytest.mark.e2e


@pytest.fixture
def fresh_account(admin_account: Account, live_app: LiveServer) -> Account:
    """A user of this test alone: the other browser tests count their own chats in the sidebar."""
    return register_via_api(live_app, f"u_{uuid.uuid4().hex[:8]}")


@pytest.fixture
def fresh_page(context: BrowserContext, fresh_account: Account, live_app: LiveServer) -> Page:
    sign_in_context(context, live_app, fresh_account)
    return context.new_page()


def test_a_jira_write_is_asked_in_plain_words_and_edited_as_a_form(
    fresh_page: Page, admin_account: Account, live_app: LiveServer
) -> None:
    page = fresh_page
    title = f"Discharge summary PDF is blank {uuid.uuid4().hex[:5]}"
    start_chat(page, f"create a bug in SB: {title}")
    approval = page.get_by_test_id("approval-card")
    expect(approval).to_have_attribute("data-status", "pending", timeout=15_000)
    expect(approval.get_by_test_id("approval-summary")).to_have_text(f"Create a Bug in SB \u2014 \u201c{title}\u201d")
    expect(approval.get_by_test_id("approval-target")).to_have_text("Demo Jira")
    expect(approval.get_by_test_id("approval-risk")).to_have_text("Changes data")
    expect(approval.get_by_label("Proposed arguments")).to_contain_text("Summary")
    # The developer's description is out of the way, under "Technical details".
    expect(approval.get_by_text("Reads the project's required fields first")).to_be_hidden()
    # The assistant may read first (the project's list, to ground "SB"); the write's own card is labelled.
    tool = page.locator('[data-testid="tool-card"][data-tool="demo_jira__create_issue"]')
    expect(tool).to_contain_text("Demo Jira \u00b7 create issue")
    expect(tool.locator(".tool-label")).to_have_attribute("title", "demo_jira__create_issue")
    shoot_themes(page, "approval-plain-words")

    approval.get_by_test_id("approval-edit").click()
    form = approval.get_by_test_id("approval-form")
    expect(form.get_by_label("Issue type")).to_have_value("Bug")
    edited = f"{title} (edited)"
    form.get_by_label("Summary").fill(edited)
    form.get_by_label("Labels").fill("pdf, discharge")
    shoot_themes(page, "approval-edit-form")
    approval.get_by_test_id("approval-submit-edit").click()
    expect(approval).to_have_attribute("data-status", "resolved", timeout=15_000)
    wait_answered(page)
    created = sandbox_issues(demo_jira(live_app, admin_account)["config"]["base_url"], edited)
    assert len(created) == 1 and created[0]["key"].startswith("SB-"), created
    assert sandbox_issues(demo_jira(live_app, admin_account)["config"]["base_url"], title) == []
    with live_app.api(admin_account) as api:
        audit = api.get("/audit", params={"action": "approval.decision"}).json()["items"]
    assert audit[0]["details"]["summary"] == f"Create a Bug in SB \u2014 \u201c{edited}\u201d"


def test_an_hl7_send_names_the_message_the_patient_and_the_receiver(fresh_page: Page) -> None:
    page = fresh_page
    start_chat(page, SEND + adt("PLAIN01"))
    approval = page.get_by_test_id("approval-card")
    expect(approval).to_have_attribute("data-status", "pending", timeout=15_000)
    expect(approval.get_by_test_id("approval-summary")).to_have_text(
        "Send ADT^A01 for MRN PAT-9 to Switchboard inbound listener"
    )
    expect(approval.get_by_test_id("approval-risk")).to_have_text("Patient data")
    shoot_themes(page, "approval-hl7-send")
    approval.get_by_test_id("approval-reject").click()
    approval.get_by_test_id("approval-confirm-reject").click()
    expect(approval).to_have_attribute("data-status", "resolved", timeout=15_000)


def _integration_item(page: Page, name: str):  # type: ignore[no-untyped-def]
    page.goto("/integrations")
    return page.get_by_role("listitem", name=name)


def test_health_follows_real_calls_on_both_pages(
    browser: Browser, fresh_page: Page, fresh_account: Account, admin_account: Account, live_app: LiveServer
) -> None:
    page = fresh_page
    start_chat(page, "what are my open Jira tickets?")
    wait_answered(page)
    expect(page.get_by_test_id("tool-card").first).to_contain_text("Demo Jira \u00b7 my open issues")
    jira = _integration_item(page, "Demo Jira")
    expect(jira.locator(".badge").first).to_have_text("ok")  # nobody pressed Test
    expect(jira.get_by_test_id("integration-health")).to_contain_text("Last success")
    expect(jira.get_by_test_id("integration-health")).to_contain_text("just now")

    # A private HL7 destination nobody listens on: the send fails, and the failure shows with its error.
    with live_app.api(fresh_account) as api:
        created = api.post(
            "/integrations",
            json={
                "name": "Broken LIS",
                "integration_type": "hl7",
                "config": {"host": "127.0.0.1", "port": closed_port(), "timeout_s": 1},
            },
        )
        assert created.status_code == 201, created.text
    start_chat(page, "Send this to Broken LIS: " + adt("BROKEN1"))
    approval = page.get_by_test_id("approval-card")
    expect(approval).to_have_attribute("data-status", "pending", timeout=15_000)
    approval.get_by_test_id("approval-approve").click()
    wait_answered(page)
    broken = _integration_item(page, "Broken LIS")
    expect(broken.locator(".badge").first).to_have_text("error")
    expect(broken.get_by_test_id("health-error")).to_contain_text(re.compile("refused|unreachable|connect", re.I))
    shoot_themes(page, "integrations-health")

    context = browser.new_context(base_url=live_app.url, viewport=DESKTOP)
    try:
        sign_in_context(context, live_app, admin_account)
        admin = context.new_page()
        admin.goto("/admin")
        overview = admin.get_by_test_id("admin-overview")
        jira_row = overview.locator('[data-testid="overview-integration"][data-name="Demo Jira"]')
        expect(jira_row.locator(".badge")).to_have_text("ok")
        broken_row = overview.locator('[data-testid="overview-integration"][data-name="Broken LIS"]')
        expect(broken_row.locator(".badge")).to_have_text("error")
        expect(broken_row.locator(".health-error")).to_contain_text(re.compile("refused|unreachable|connect", re.I))
    finally:
        context.close()


def test_admin_charts_draw_a_burst_of_turns(
    admin_page: Page, admin_account: Account, fresh_account: Account, live_app: LiveServer
) -> None:
    headers = {"Authorization": f"Bearer {admin_account.access_token(live_app)}"}
    with httpx.Client(base_url=f"{live_app.url}/api/v1", headers=headers, timeout=30) as admin_api:
        before = admin_api.get("/admin/overview/activity").json()["totals"]["turns"]
        # A scripted burst: a few turns over the chat API, as a user's client would start them.
        with live_app.api(fresh_account) as api:
            session_id = api.post("/chat/sessions", json={"message": "hello"}).json()["session_id"]
            for n in range(4):
                answered = api.post(f"/chat/sessions/{session_id}/messages", json={"message": f"hello {n}"})
                assert answered.status_code == 200, answered.text
        for _ in range(100):
            totals = admin_api.get("/admin/overview/activity").json()["totals"]
            if totals["turns"] >= before + 4:
                break
            admin_page.wait_for_timeout(200)
        assert totals["turns"] >= before + 4, (before, totals)
    page = admin_page
    page.goto("/admin")
    charts = page.get_by_test_id("activity-chart")
    expect(charts).to_have_count(3)
    expect(charts.first).to_contain_text(re.compile(r"\d+ turns"))
    expect(charts.first.get_by_test_id("chart-bar").first).to_be_visible()
    expect(page.get_by_test_id("chart-line")).to_have_attribute("d", re.compile("^M"))
    expect(page.get_by_test_id("chart-dot").first).to_be_visible()
    expect(page.get_by_test_id("approvals-chart")).to_be_visible()
    shoot_themes(page, "admin-charts")
    page.get_by_role("radio", name="Last 24 h").click()
    expect(charts.first).to_contain_text("per 15 minutes")
    expect(charts.first.get_by_test_id("chart-bar").first).to_be_visible()


def test_change_password_and_an_admin_reset_link(browser: Browser, admin_page: Page, live_app: LiveServer) -> None:
    name = f"pat_{uuid.uuid4().hex[:6]}"
    person = register_via_api(live_app, name)
    context = browser.new_context(base_url=live_app.url, viewport=DESKTOP)
    try:
        sign_in_context(context, live_app, person)
        page = context.new_page()
        page.goto("/account")
        form = page.get_by_role("form", name="Change password")
        form.get_by_label("Current password").fill("not my password")
        form.get_by_label("New password", exact=True).fill("a brand new secret")
        form.get_by_label("Repeat the new password").fill("a brand new secret")
        form.get_by_role("button", name="Change password").click()
        expect(form.get_by_role("alert")).to_contain_text("current password is not correct")
        form.get_by_label("Current password").fill(PASSWORD)
        form.get_by_role("button", name="Change password").click()
        expect(page.get_by_test_id("password-changed")).to_be_visible()
        shoot_themes(page, "account-password")
        page.reload()  # this session stays signed in
        expect(page.get_by_test_id("account-username")).to_have_text(name)
    finally:
        context.close()
    assert Account(name, "a brand new secret").tokens(live_app)["access_token"]

    admin = admin_page
    admin.goto("/admin/users")
    row = admin.get_by_test_id("user-row").filter(has_text=name)
    row.get_by_role("button", name=f"Create a password reset link for {name}").click()
    link = row.get_by_test_id("reset-link").get_by_role("textbox").input_value()
    assert "/reset-password#token=" in link
    shoot_themes(admin, "admin-reset-link")

    anonymous = browser.new_context(viewport=DESKTOP)
    try:
        page = anonymous.new_page()
        page.goto(link)
        form = page.get_by_role("form", name="Set a new password")
        form.get_by_label("New password", exact=True).fill("set by the link")
        form.get_by_label("Repeat the new password").fill("set by the link")
        shoot_themes(page, "reset-password")
        form.get_by_role("button", name="Set password").click()
        expect(page.get_by_test_id("password-reset-done")).to_be_visible()
        assert "token" not in page.url
        page = anonymous.new_page()  # a fresh tab: the same address with a new fragment would not reload
        page.goto(link)  # one time only
        form = page.get_by_role("form", name="Set a new password")
        form.get_by_label("New password", exact=True).fill("another new one")
        form.get_by_label("Repeat the new password").fill("another new one")
        form.get_by_role("button", name="Set password").click()
        expect(form.get_by_role("alert")).to_contain_text("not valid")
    finally:
        anonymous.close()
    assert Account(name, "set by the link").tokens(live_app)["access_token"]
