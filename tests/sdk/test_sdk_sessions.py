"""Sessions through the client: create, list with paging and search, every page, rename, messages,
export, delete; sync and async."""

from __future__ import annotations

import json

import pytest
from switchboard_client import AsyncSwitchboard, NotFoundError

from tests.conftest import TestUser
from tests.sdk.conftest import in_thread, sync_client


async def test_session_lifecycle_async(alice_client: AsyncSwitchboard) -> None:
    created = await alice_client.sessions.create("hello there")
    assert created.content == "hello there" and created.message_type == "user"
    sid = created.session_id

    answer = await alice_client.chat.send(sid, "and hello again")
    assert answer.role == "assistant" and answer.content

    session = await alice_client.sessions.get(sid)
    assert session.total_messages == 4 and session.status == "active"
    renamed = await alice_client.sessions.rename(sid, "Greetings")
    assert renamed.title == "Greetings"

    page = await alice_client.sessions.messages(sid, size=3)
    assert page.total == 4 and page.pages == 2 and [m.role for m in page.items] == ["user", "assistant", "user"]
    everything = [m async for m in alice_client.sessions.iter_messages(sid)]
    assert [m.role for m in everything] == ["user", "assistant", "user", "assistant"]

    markdown = await alice_client.sessions.export(sid)
    assert "Greetings" in markdown and "and hello again" in markdown
    exported = json.loads(await alice_client.sessions.export(sid, "json"))
    assert len(exported["messages"]) == 4

    events = await alice_client.sessions.events(sid)
    assert [e.type for e in events].count("final") == 2

    await alice_client.sessions.delete(sid)
    with pytest.raises(NotFoundError) as deleted:
        await alice_client.sessions.get(sid)
    assert deleted.value.code == "not_found"


async def test_paging_search_and_isolation(live_server: str, alice: TestUser, bob: TestUser) -> None:
    def scenario() -> None:
        with sync_client(live_server, alice) as client:
            for n in range(5):
                client.sessions.create(f"note {n}: {'zebra' if n % 2 else 'lion'}")
            first = client.sessions.list(page=1, size=2)
            assert (first.total, first.pages, len(first.items), first.next_page) == (5, 3, 2, 2)
            last = client.sessions.list(page=3, size=2)
            assert len(last.items) == 1 and last.next_page is None
            assert len(list(client.sessions.iter(size=2))) == 5
            zebras = client.sessions.list(q="zebra")
            assert zebras.total == 2
            mine = next(iter(client.sessions.iter()))
            # Read-your-writes from a real socket: the 204 comes after the commit, not before it.
            doomed = client.sessions.create("short-lived").session_id
            client.sessions.delete(doomed)
            with pytest.raises(NotFoundError):
                client.sessions.get(doomed)
        with sync_client(live_server, bob) as other:
            assert other.sessions.list().total == 0
            with pytest.raises(NotFoundError):
                other.sessions.get(mine.session_id)

    await in_thread(scenario)
