"""The stream protocol as one typed definition: every WebSocket/SSE chat frame and events-socket frame.

`frames` defines them with pydantic; `export` writes them (and the REST OpenAPI document) as JSON
Schema for the clients, whose types are generated from that (sdk/typescript, the web app). A test
checks that what the server really sends validates against these models, and that the exported
files are fresh.
"""
