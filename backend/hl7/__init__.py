"""The HL7 engine: message store, routing API, durable delivery outbox, inbound MLLP listener."""
