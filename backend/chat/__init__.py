"""Chat: sessions and messages over REST, turns streamed over WebSocket and SSE."""
