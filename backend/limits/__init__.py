"""Resource limits: request heads and bodies, WebSocket frames, sockets per user and per IP.

Server layer (`server.py`, applied by `switchboard serve`): the request head's size and the time it
may take to arrive, keep-alive idling, and the WebSocket frame size uvicorn buffers. App layer
(`body.py`, `sockets.py`): request bodies capped while they stream (before anything parses them or
counts them against a rate limit), and open sockets per IP and per user. Every limit is a setting
(README, docs/security.md); every refusal has a status or close code and a machine `code`.
"""
