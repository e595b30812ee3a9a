"""The inbound MLLP listener started by `switchboard serve` when `HL7_LISTEN_PORT` is set.

Every message that arrives is stored (direction `inbound`) and routed through the enabled channels
whose sources include `mllp`, then answered: AA once it is committed, AE with the located problems
when it cannot be read or a channel's validation rejects it. Garbage, partial and oversize frames
are handled by the listener itself and never reach the store.
"""

from __future__ import annotations

from backend.context import AppContext
from tools.hl7.mllp import MllpListener

from .engine import Hl7Engine


def inbound_listener(app: AppContext, host: str, port: int) -> MllpListener:
    engine: Hl7Engine = app.extras["hl7_engine"]
    return MllpListener(engine.receive, host=host, port=port)
