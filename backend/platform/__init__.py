"""The programmatic platform: API keys, webhooks, the live event channel and rate limits.

Other packages call `events.publish(...)` (see `backend/platform/sources.py` for the event shapes);
everything else here is wired by `lifespan.start_platform` and the routers.
"""
