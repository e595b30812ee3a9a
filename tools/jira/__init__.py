"""The `jira` integration type: Jira Cloud and Data Center through the `jira` library.

`config` (what an integration stores), `client` (async wrapper with timeouts, retries and one error
mapping), `operations` (what the tools do: JQL, create metadata, user and transition resolution),
`adf` (Atlassian Document Format <-> markdown), `shapes` (compact results for the model), `tools`
(LangChain tools), `connector` (the `CONNECTOR` the registry loads) and `sandbox` (a Jira-compatible
server for the demo and the tests: `sandbox_state`, `sandbox_jql`, `sandbox_create`,
`sandbox_control`, seeded by `sandbox_seed`).
"""
