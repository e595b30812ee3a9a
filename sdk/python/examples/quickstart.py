"""Sign in, chat (blocking), list sessions page by page, look at integrations.

    SWITCHBOARD_URL=http://127.0.0.1:8000 SWITCHBOARD_USERNAME=ada SWITCHBOARD_PASSWORD=... \
        python sdk/python/examples/quickstart.py
"""

from __future__ import annotations

import os
import uuid

from switchboard_client import NotFoundError, Switchboard


def main() -> None:
    with Switchboard(
        os.environ.get("SWITCHBOARD_URL", "http://127.0.0.1:8000"),
        username=os.environ["SWITCHBOARD_USERNAME"],
        password=os.environ["SWITCHBOARD_PASSWORD"],
    ) as client:
        me = client.auth.me()
        print(f"signed in as {me.username} ({me.role})")

        session = client.sessions.create("hello")
        answer = client.chat.send(session.session_id, "what can you do?")
        print(f"assistant: {answer.content[:80]}...")

        client.sessions.rename(session.session_id, "Quickstart")
        for item in client.sessions.iter(q="Quickstart"):  # every page, 100 at a time
            print(f"session {item.title!r}: {item.total_messages} messages")
        print(client.sessions.export(session.session_id).splitlines()[0])

        for integration in client.integrations.iter():
            print(f"integration {integration.name} ({integration.integration_type}): {integration.status}")

        client.sessions.delete(session.session_id)
        try:
            client.sessions.get(uuid.uuid4())  # errors are typed: NotFoundError, ValidationError, ...
        except NotFoundError as error:
            print(f"no such session: {error.status_code} {error.code}")


if __name__ == "__main__":
    main()
