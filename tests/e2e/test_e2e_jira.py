"""The Jira journey in the browser, against the Jira sandbox demo mode starts: read, then an approved write
that really lands in the sandbox; and a Jira integration made through the form with masked secrets."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import Account, LiveServer, shoot
from tests.e2e.test_e2e_chat import last_answer, record_answer_lengths, start_chat, wait_answered
from tools.jira.sandbox_seed import DEMO_API_TOKEN, DEMO_EMAIL

pytestmark = pytest.mark.e2e


def demo_jira(live_app: LiveServer, account: Account) -> dict[str, Any]:
    with live_app.api(account) as api:
        items = api.get("/integrations", params={"integration_type": "jira"}).json()["items"]
    found = [item for item in items if item["name"] == "Demo Jira"]
    assert found, f"demo mode did not create the Demo Jira integration: {[i['name'] for i in items]}"
    return dict(found[0])


def sandbox_issues(base_url: str, summary: str) -> list[dict[str, Any]]:
    """Ask the Jira sandbox itself (its REST API, as Dana Demo) for issues with this summary."""
    response = httpx.get(
        f"{base_url}/rest/api/3/search/jql",
        params={"jql": f'summary ~ "{summary}"', "fields": "summary,status,project"},
        auth=(DEMO_EMAIL, DEMO_API_TOKEN),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [issue for issue in response.json()["issues"] if issue["fields"]["summary"] == summary]


def test_open_tickets_then_an_approved_issue_lands_in_the_sandbox(
    admin_page: Page, admin_account: Account, live_app: LiveServer
) -> None:
    page = admin_page  # the account registered first, through the sign-up form
    page.goto("/chat")
    example = page.get_by_test_id("empty-state").get_by_role("button", name="What are my open Jira tickets?")
    expect(example).to_be_visible()
    start_chat(page, "what are my open Jira tickets?")
    record_answer_lengths(page)
    card = page.get_by_test_id("tool-card").first
    expect(card).to_have_attribute("data-tool", "demo_jira__my_open_issues")
    expect(card).to_have_attribute("data-status", "completed", timeout=15_000)
    wait_answered(page)
    assert len(set(page.evaluate("window.__lengths"))) >= 5, "the answer did not stream"
    answer = last_answer(page)
    expect(answer).to_contain_text("open Jira issues assigned to you")
    expect(answer.get_by_role("table")).to_be_visible()
    expect(answer.get_by_role("link", name=re.compile(r"^[A-Z]+-\d+$")).first).to_be_visible()
    shoot(page, "chat-jira-tool-card")

    summary = f"Login page times out on mobile {uuid.uuid4().hex[:6]}"
    box = page.get_by_label("Message", exact=True)
    box.fill(f"create an issue in SB: {summary}")
    box.press("Enter")
    approval = page.get_by_test_id("approval-card")
    expect(approval).to_have_attribute("data-status", "pending", timeout=15_000)
    expect(approval).to_contain_text("demo_jira__create_issue")
    expect(approval.get_by_label("Proposed arguments")).to_contain_text(summary)
    base_url = demo_jira(live_app, admin_account)["config"]["base_url"]
    assert sandbox_issues(base_url, summary) == [], "the issue was created before it was approved"
    shoot(page, "chat-jira-approval")
    approval.get_by_test_id("approval-approve").click()
    expect(approval).to_have_attribute("data-status", "resolved", timeout=15_000)
    wait_answered(page)
    expect(page.get_by_test_id("tool-card").last).to_have_attribute("data-status", "completed")
    expect(last_answer(page)).to_contain_text(re.compile(r"Created SB-\d+"))
    created = sandbox_issues(base_url, summary)
    assert len(created) == 1, created
    assert created[0]["key"].startswith("SB-")
    expect(last_answer(page)).to_contain_text(created[0]["key"])


def test_jira_form_masks_secrets_and_tests_the_connection(
    user_page: Page, user_account: Account, admin_account: Account, live_app: LiveServer
) -> None:
    page = user_page
    base_url = demo_jira(live_app, admin_account)["config"]["base_url"]
    page.goto("/integrations")
    page.get_by_role("button", name="+ Add integration").click()
    form = page.get_by_role("form", name="New integration")
    form.get_by_label("Type").select_option("jira")
    form.get_by_label("Name").fill("Team Jira")
    form.get_by_role("textbox", name="Base URL").fill(base_url)
    form.get_by_role("textbox", name="Email").fill(DEMO_EMAIL)
    token = form.get_by_label("API token")
    expect(token).to_have_attribute("type", "password")
    token.fill("not-the-token")
    shoot(page, "integration-form-jira")
    form.get_by_role("button", name="Create integration").click()
    expect(form).to_be_hidden()

    item = page.get_by_role("listitem", name="Team Jira")
    expect(item.locator(".type-icon")).to_have_text("JI")
    item.get_by_role("button", name="Test connection of Team Jira").click()
    result = item.get_by_test_id("test-result")
    expect(result).to_have_attribute("data-ok", "false", timeout=15_000)
    expect(result.get_by_role("alert")).not_to_be_empty()
    expect(result.locator("[data-testid=test-step][data-ok=false]")).to_have_count(1)
    expect(item).to_contain_text("error")

    # The stored token is never sent back: editing shows an empty, masked field to replace it.
    with live_app.api(user_account) as api:
        listed = next(i for i in api.get("/integrations").json()["items"] if i["name"] == "Team Jira")
    assert listed["has_credentials"] is True
    assert "credentials" not in listed and "not-the-token" not in str(listed)
    item.get_by_role("button", name="Edit Team Jira").click()
    edit = page.get_by_role("form", name="Edit Team Jira")
    token = edit.get_by_label("API token")
    expect(token).to_have_attribute("type", "password")
    expect(token).to_have_value("")
    expect(token).to_have_attribute("placeholder", re.compile("unchanged"))
    token.fill(DEMO_API_TOKEN)
    edit.get_by_role("button", name="Save changes").click()
    # Credentials are replaced as a whole: the token alone is refused with the reason.
    expect(edit.get_by_role("alert")).to_contain_text("email")
    edit.get_by_role("textbox", name="Email").fill(DEMO_EMAIL)
    edit.get_by_role("button", name="Save changes").click()
    expect(edit).to_be_hidden()
    item.get_by_role("button", name="Test connection of Team Jira").click()
    expect(result).to_have_attribute("data-ok", "true", timeout=15_000)
    expect(result).to_contain_text(re.compile(r"Connection OK in \d+ ms"))
    shoot(page, "integration-test-jira")

    item.get_by_role("button", name="Delete Team Jira").click()
    item.get_by_role("group", name="Delete Team Jira?").get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("listitem", name="Team Jira")).to_have_count(0)
