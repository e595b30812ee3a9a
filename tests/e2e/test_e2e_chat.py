"""Chatting in the browser: streaming, stop, keyboard, sessions, regenerate, edit, export, reconnect."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.e2e.support import Account, LiveServer, shoot

pytestmark = pytest.mark.e2e

GUIDE = "Give me a detailed guide to using Switchboard"  # the offline model's longest answer


def start_chat(page: Page, text: str) -> None:
    """From the empty state, send the first message of a new chat and wait for its page."""
    page.goto("/chat")
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/chat/[0-9a-f-]{36}$"))


def last_answer(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("message-assistant").last


def wait_answered(page: Page) -> None:
    expect(last_answer(page)).to_have_attribute("data-streaming", "false", timeout=20_000)


def record_answer_lengths(page: Page) -> None:
    """Record the growing length of the streaming answer on every DOM change (for token-by-token checks)."""
    page.evaluate(
        """() => {
          window.__lengths = [];
          const list = document.querySelector('[data-testid=message-list]');
          new MutationObserver(() => {
            const answers = list.querySelectorAll('[data-testid=message-assistant]');
            const last = answers[answers.length - 1];
            if (last && last.dataset.streaming === 'true') window.__lengths.push(last.innerText.length);
          }).observe(list, {subtree: true, childList: true, characterData: true});
        }"""
    )


def test_empty_state_streams_an_answer_token_by_token(admin_page: Page) -> None:
    page = admin_page
    page.goto("/chat")
    empty = page.get_by_test_id("empty-state")
    expect(empty.get_by_role("heading", name="What can I help with?")).to_be_visible()
    # Demo mode gives everyone the shared HL7 integration, so its example prompt is offered.
    example = empty.get_by_role("button", name="Explain an HL7 message")
    expect(example).to_be_visible()
    shoot(page, "chat-empty")
    example.click()
    box = page.get_by_label("Message", exact=True)
    expect(box).to_have_value(re.compile("^Explain this HL7 message:\nMSH"))
    expect(box).to_be_focused()

    page.get_by_label("Message", exact=True).fill(GUIDE)
    page.get_by_role("button", name="Send message").click()
    expect(page).to_have_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
    record_answer_lengths(page)
    expect(page.get_by_test_id("stop-button")).to_be_visible()
    wait_answered(page)
    lengths: list[int] = page.evaluate("window.__lengths")
    growing = sorted(set(lengths))
    assert len(growing) >= 10, f"the answer did not stream in pieces: {growing[:20]}"
    answer = last_answer(page)
    expect(answer.get_by_role("heading", name="How a conversation works")).to_be_visible()  # rendered markdown
    expect(page.get_by_test_id("send-button")).to_be_visible()
    expect(page.get_by_test_id("connection-indicator")).to_have_attribute("data-state", "open")
    # The new chat is in the sidebar, titled from its first message.
    expect(page.get_by_test_id("session-item").first).to_contain_text("detailed guide")


@pytest.mark.parametrize("how", ["button", "escape", "escape-anywhere"])
def test_stop_keeps_the_partial_answer(admin_page: Page, how: str) -> None:
    page = admin_page
    start_chat(page, GUIDE)
    answer = last_answer(page)
    expect(answer).to_contain_text("Here is how to use")  # a few tokens are in
    if how == "button":
        page.get_by_test_id("stop-button").click()
    elif how == "escape":
        page.get_by_label("Message", exact=True).press("Escape")
    else:  # focus elsewhere on the page
        page.get_by_label("Search chats").focus()
        page.keyboard.press("Escape")
    expect(answer).to_have_attribute("data-finish", "cancelled", timeout=10_000)
    expect(answer.get_by_test_id("finish-reason")).to_have_text("Stopped")
    partial = answer.inner_text()
    assert "Here is how to use" in partial
    assert "export as Markdown or JSON" not in partial, "the answer ran to the end instead of stopping"
    # The partial answer is what was stored: it survives a reload.
    page.reload()
    expect(last_answer(page)).to_contain_text("Here is how to use")
    expect(last_answer(page)).to_have_attribute("data-finish", "cancelled")


def test_enter_sends_and_shift_enter_adds_a_line(admin_page: Page) -> None:
    page = admin_page
    start_chat(page, "hello")
    wait_answered(page)
    box = page.get_by_label("Message", exact=True)
    box.type("thanks")
    box.press("Shift+Enter")
    box.type("a lot")
    expect(box).to_have_value("thanks\na lot")
    expect(page.get_by_test_id("message-user")).to_have_count(1)
    box.press("Enter")
    expect(page.get_by_test_id("message-user")).to_have_count(2)
    expect(page.get_by_test_id("message-user").last).to_contain_text("a lot")
    expect(box).to_have_value("")
    wait_answered(page)
    expect(last_answer(page)).to_contain_text("You're welcome")


def test_regenerate_edit_copy_and_export(admin_page: Page) -> None:
    page = admin_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    start_chat(page, "hello")
    wait_answered(page)
    first = last_answer(page).inner_text()
    assert "Switchboard" in first

    page.get_by_test_id("regenerate-button").click()
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)
    wait_answered(page)
    expect(last_answer(page)).to_contain_text("Hello! I'm Switchboard")

    # Copy puts the answer's text on the clipboard.
    last_answer(page).get_by_role("button", name="Copy message").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Hello! I'm Switchboard")

    # Editing the sent message reruns the conversation from there.
    user = page.get_by_test_id("message-user").first
    user.hover()
    user.get_by_role("button", name="Edit message").click()
    editor = page.get_by_label("Edit message")
    editor.fill("thanks")
    page.get_by_role("button", name="Save and resend").click()
    expect(page.get_by_test_id("message-user")).to_have_count(1)
    expect(page.get_by_test_id("message-user")).to_contain_text("thanks")
    wait_answered(page)
    expect(last_answer(page)).to_contain_text("You're welcome")
    page.reload()  # the edit replaced the old turn on the server too
    expect(page.get_by_test_id("message-user")).to_have_count(1)
    expect(last_answer(page)).to_contain_text("You're welcome")

    with page.expect_download() as markdown:
        page.get_by_test_id("export-markdown").click()
    assert markdown.value.suggested_filename.endswith(".md")
    text = open(markdown.value.path(), encoding="utf-8").read()  # noqa: SIM115 - read once
    assert "thanks" in text and "You're welcome" in text
    with page.expect_download() as exported:
        page.get_by_test_id("export-json").click()
    body = json.loads(open(exported.value.path(), encoding="utf-8").read())  # noqa: SIM115
    assert "thanks" in json.dumps(body)


def test_sessions_sidebar_new_search_rename_delete_and_order(user_page: Page) -> None:
    page = user_page
    start_chat(page, "hello there")
    wait_answered(page)
    first_url = page.url
    page.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    start_chat(page, "thanks for the help")
    wait_answered(page)
    items = page.get_by_test_id("session-item")
    expect(items).to_have_count(2)
    # Most recently active first.
    expect(items.first).to_contain_text("thanks for the help")

    # Activity in the older chat moves it to the top.
    page.goto(first_url)
    page.get_by_label("Message", exact=True).fill("thanks")
    page.get_by_label("Message", exact=True).press("Enter")
    wait_answered(page)
    expect(items.first).to_contain_text("hello there")

    # Rename: Esc cancels without saving, Enter saves.
    page.get_by_role("button", name="Rename hello there").click()
    title = page.get_by_label("Chat title")
    title.fill("Not this one")
    title.press("Escape")
    expect(items.first).to_contain_text("hello there")
    page.get_by_role("button", name="Rename hello there").click()
    title.fill("Greetings chat")
    title.press("Enter")
    expect(items.first).to_contain_text("Greetings chat")
    expect(page.get_by_role("heading", name="Greetings chat")).to_be_visible()

    # Search narrows the list.
    page.get_by_label("Search chats").fill("Greetings")
    expect(items).to_have_count(1)
    page.get_by_label("Search chats").fill("")
    expect(items).to_have_count(2)

    # Delete asks first; cancelling keeps the chat, confirming removes it.
    page.get_by_role("button", name="Delete Greetings chat").click()
    page.get_by_role("group", name="Delete this chat?").get_by_role("button", name="Cancel").click()
    expect(items).to_have_count(2)
    page.get_by_role("button", name="Delete Greetings chat").click()
    page.get_by_role("group", name="Delete this chat?").get_by_role("button", name="Confirm").click()
    expect(items).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/chat$"))


def test_switching_away_and_back_keeps_a_running_answer_streaming(user_page: Page) -> None:
    page = user_page
    start_chat(page, "hello")
    wait_answered(page)
    other_url = page.url
    start_chat(page, GUIDE)
    running_url = page.url
    expect(last_answer(page)).to_contain_text("Here is how to use")
    page.get_by_test_id("session-item").filter(has_text="hello").click()
    expect(page).to_have_url(other_url)
    page.wait_for_timeout(300)
    page.get_by_test_id("session-item").filter(has_text="detailed guide").click()
    expect(page).to_have_url(running_url)
    answer = last_answer(page)
    expect(answer).to_have_attribute("data-streaming", "true")  # resumed after the last seq, still streaming
    record_answer_lengths(page)
    wait_answered(page)
    assert len(set(page.evaluate("window.__lengths"))) >= 3, "the resumed answer did not keep streaming"
    expect(answer).to_contain_text("export as Markdown or JSON")
    expect(answer).to_have_attribute("data-finish", "stop")
    assert answer.inner_text().count("Here is how to use") == 1, "replayed tokens were shown twice"


def test_scrolling_up_pauses_auto_scroll(user_page: Page) -> None:
    page = user_page
    page.set_viewport_size({"width": 1280, "height": 400})
    start_chat(page, GUIDE)
    messages = page.get_by_test_id("message-list")
    messages.evaluate(
        """element => new Promise(resolve => {
          const check = () => element.scrollHeight > element.clientHeight + 150 ? resolve() : setTimeout(check, 20);
          check();
        })"""
    )
    expect(last_answer(page)).to_have_attribute("data-streaming", "true")
    messages.evaluate("element => element.scrollTo(0, 0)")
    wait_answered(page)
    assert messages.evaluate("element => element.scrollTop") == 0, "the list scrolled although the user scrolled up"
    jump = page.get_by_role("button", name="Jump to latest")
    expect(jump).to_be_visible()
    jump.click()
    expect(jump).to_be_hidden()
    at_bottom = "element => element.scrollHeight - element.scrollTop - element.clientHeight < 50"
    assert messages.evaluate(at_bottom)


def test_dropped_connection_reconnects_and_shows_the_answer_finished_meanwhile(
    user_page: Page, user_account: Account, live_app: LiveServer
) -> None:
    page = user_page
    sockets: list[WebSocketRoute] = []

    def through(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/api/v1/chat/ws/"), through)
    start_chat(page, GUIDE)
    indicator = page.get_by_test_id("connection-indicator")
    expect(indicator).to_have_attribute("data-state", "open")
    expect(last_answer(page)).to_contain_text("Here is how to use")
    # The network drops mid-answer; the turn keeps running on the server.
    page.context.set_offline(True)
    sockets[-1].close(code=1012, reason="network lost")
    expect(indicator).to_have_attribute("data-state", "reconnecting")
    expect(indicator).to_contain_text("Reconnecting")
    # The answer completes on the server while the browser is away.
    session_id = page.url.rsplit("/", 1)[-1]
    with live_app.api(user_account) as api:
        for _ in range(100):
            stored = api.get(f"/chat/sessions/{session_id}/messages").json()["items"]
            if any(m["role"] == "assistant" and "export as Markdown" in m["content"] for m in stored):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the answer did not complete on the server")
    expect(last_answer(page)).not_to_contain_text("export as Markdown or JSON")
    page.context.set_offline(False)
    expect(indicator).to_have_attribute("data-state", "open", timeout=15_000)
    assert len(sockets) >= 2
    answer = last_answer(page)
    expect(answer).to_have_attribute("data-streaming", "false", timeout=15_000)
    expect(answer).to_contain_text("export as Markdown or JSON")
    assert answer.inner_text().count("Here is how to use") == 1


def test_chat_at_375_px_uses_a_drawer_for_the_sessions(
    user_page: Page, user_account: Account, live_app: LiveServer
) -> None:
    page = user_page
    page.set_viewport_size({"width": 375, "height": 812})
    start_chat(page, "hello")
    wait_answered(page)
    sidebar = page.get_by_role("complementary", name="Chat sessions")
    toggle = page.get_by_role("button", name="Show chats")
    expect(toggle).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_be_in_viewport()
    toggle.click()
    expect(sidebar.get_by_test_id("new-chat")).to_be_in_viewport()
    sidebar.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
