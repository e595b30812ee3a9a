"""The Switchboard agent: LangGraph agent (LangChain `create_agent`), model providers, the offline model.

What the backend calls:
- `agents.checkpoint.open_checkpointer(database_url)`: async context manager → the LangGraph saver
  (SQLite or PostgreSQL) on the app's database.
- `agents.providers.load_chat_model(spec, api_key=, base_url=)`: `"offline"` or `"provider:model"`.
- `agents.runtime.AgentRunner(model, checkpointer)`: `run_turn`, `pending_approvals`, `history`,
  `rewind` (the stream's events and invariants are documented there and in `agents.events`).
- `agents.policy.ApprovalPolicy` / `PolicyOverride`; `agents.approvals.ApprovalRequest` /
  `ApprovalDecision` (`APPROVAL_CONTRACT_VERSION`); `agents.prompts.system_prompt(connected)`.

Imports `tools`, never `backend`.
"""
