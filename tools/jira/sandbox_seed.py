"""The Jira sandbox's seed data: deterministic, so tests, evals and the demo can rely on it.

Site: "Switchboard Demo Jira". Every issue is timestamped relative to the moment the sandbox starts
(`anchor`, UTC, whole minutes): `created = anchor - created_days`, `updated = anchor - updated_days`
(minus the issue's number in minutes, so orderings never tie). Issue keys are fixed.

Users (`accountId` / username / email / Cloud API token / Data Center personal access token):
| who | accountId | username | email | api_token | PAT | notes |
|---|---|---|---|---|---|---|
| Dana Demo | acct-dana | dana | dana@example.com | demo-jira-token | demo-jira-pat | the demo user |
| Alex Kim | acct-alex | alex | alex@example.com | alex-jira-token | alex-jira-pat | lead of SB |
| Priya Patel | acct-priya | priya | priya@example.com | priya-jira-token | priya-jira-pat | lead of OPS |
| Sam Rivera | acct-sam | sam | sam@example.com | sam-jira-token | sam-jira-pat | lead of MKT |
| Jordan Lee | acct-jordan | jordan | jordan@example.com | jordan-jira-token | jordan-jira-pat | |
| Nora Nobody | acct-nora | nora | nora@example.com | nora-jira-token | nora-jira-pat | signs in, sees no project |
| Guest Viewer | acct-guest | guest | guest@example.com | guest-jira-token | guest-jira-pat | no product access: 403 |

Projects: SB "Switchboard" (software; Task, Bug, Story, Sub-task), OPS "Operations" (Task, Incident —
an Incident requires Priority and Component/s: Network, Database or Integrations), MKT "Marketing"
(Task). Statuses: To Do (category new), In Progress and In Review (indeterminate), Done (done; sets
resolution Done). Transitions 11 "To Do", 21 "In Progress", 31 "In Review", 41 "Done" lead to the
status of the same name, from any other status. Priorities: Highest, High, Medium, Low, Lowest.

Issues: 40 — SB-1..SB-18, OPS-1..OPS-12, MKT-1..MKT-10 (table `ISSUES` below). Dana has 6 open
issues: SB-1 (Bug, In Progress, High), SB-4 (To Do, Medium), SB-7 (Story, In Review, Medium), OPS-2
(Incident, In Progress, Highest), OPS-5 (To Do, High) and MKT-3 (To Do, Low); `assignee =
currentUser() AND statusCategory != Done ORDER BY priority DESC, updated DESC` returns them in the
order OPS-2, SB-1, OPS-5, SB-7, SB-4, MKT-3. Dana also has SB-2 and OPS-1, both Done. New issues get
the project's next number (SB-19, OPS-13, MKT-11).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SITE_TITLE = "Switchboard Demo Jira"
DEMO_EMAIL = "dana@example.com"
DEMO_API_TOKEN = "demo-jira-token"
DEMO_PAT = "demo-jira-pat"


@dataclass(frozen=True)
class SeedUser:
    account_id: str
    username: str
    display_name: str
    email: str
    api_token: str
    pat: str
    product_access: bool = True  # False: every call but none answers 403
    browse: bool = True  # False: signs in, sees no project


USERS: tuple[SeedUser, ...] = (
    SeedUser("acct-dana", "dana", "Dana Demo", DEMO_EMAIL, DEMO_API_TOKEN, DEMO_PAT),
    SeedUser("acct-alex", "alex", "Alex Kim", "alex@example.com", "alex-jira-token", "alex-jira-pat"),
    SeedUser("acct-priya", "priya", "Priya Patel", "priya@example.com", "priya-jira-token", "priya-jira-pat"),
    SeedUser("acct-sam", "sam", "Sam Rivera", "sam@example.com", "sam-jira-token", "sam-jira-pat"),
    SeedUser("acct-jordan", "jordan", "Jordan Lee", "jordan@example.com", "jordan-jira-token", "jordan-jira-pat"),
    SeedUser("acct-nora", "nora", "Nora Nobody", "nora@example.com", "nora-jira-token", "nora-jira-pat", browse=False),
    SeedUser(
        "acct-guest", "guest", "Guest Viewer", "guest@example.com", "guest-jira-token", "guest-jira-pat", False, False
    ),
)


@dataclass(frozen=True)
class SeedProject:
    id: str
    key: str
    name: str
    type_key: str
    lead: str  # username
    issue_types: tuple[str, ...]
    description: str


PROJECTS: tuple[SeedProject, ...] = (
    SeedProject("10000", "SB", "Switchboard", "software", "alex", ("Task", "Bug", "Story", "Sub-task"),
                "The Switchboard product: backend, agent and web app."),
    SeedProject("10001", "OPS", "Operations", "business", "priya", ("Task", "Incident"),
                "Infrastructure, on-call and incidents."),
    SeedProject("10002", "MKT", "Marketing", "business", "sam", ("Task",), "Launches, content and events."),
)  # fmt: skip

# name -> (id, subtask, description)
ISSUE_TYPES: dict[str, tuple[str, bool, str]] = {
    "Task": ("10001", False, "A small, distinct piece of work."),
    "Bug": ("10002", False, "A problem or error."),
    "Story": ("10003", False, "A user story."),
    "Incident": ("10004", False, "A service disruption that needs attention now."),
    "Sub-task": ("10005", True, "A piece of a larger issue."),
}
# name -> (id, category key, category id, category name, colour)
STATUSES: dict[str, tuple[str, str, int, str, str]] = {
    "To Do": ("10000", "new", 2, "To Do", "blue-gray"),
    "In Progress": ("3", "indeterminate", 4, "In Progress", "yellow"),
    "In Review": ("10001", "indeterminate", 4, "In Progress", "yellow"),
    "Done": ("10002", "done", 3, "Done", "green"),
}
TRANSITIONS: tuple[tuple[str, str], ...] = (("11", "To Do"), ("21", "In Progress"), ("31", "In Review"), ("41", "Done"))
PRIORITIES: tuple[str, ...] = ("Highest", "High", "Medium", "Low", "Lowest")  # ids "1".."5"
COMPONENTS: dict[str, tuple[str, ...]] = {"OPS": ("Network", "Database", "Integrations"), "SB": ("Backend", "Web")}


@dataclass(frozen=True)
class SeedIssue:
    key: str
    type: str
    summary: str
    status: str
    priority: str
    assignee: str | None  # username
    reporter: str
    labels: tuple[str, ...]
    created_days: float
    updated_days: float
    description: str = ""
    comments: tuple[tuple[str, str], ...] = ()  # (username, markdown)
    components: tuple[str, ...] = field(default=())


def _i(key: str, kind: str, summary: str, status: str, priority: str, assignee: str | None, reporter: str,
       labels: tuple[str, ...], created: float, updated: float, description: str = "",
       comments: tuple[tuple[str, str], ...] = (), components: tuple[str, ...] = ()) -> SeedIssue:  # fmt: skip
    return SeedIssue(key, kind, summary, status, priority, assignee, reporter, labels, created, updated,
                     description, comments, components)  # fmt: skip


ISSUES: tuple[SeedIssue, ...] = (
    _i("SB-1", "Bug", "Login fails with SSO when the email has uppercase letters", "In Progress", "High", "dana",
       "alex", ("auth", "sso"), 12, 1,
       "Users whose IdP sends `Dana.Demo@Example.com` get **401** after the redirect.\n\n"
       "Steps:\n\n1. Sign in with SSO\n2. Use a mixed-case email\n\nExpected: signed in.",
       (("alex", "Reproduced on staging."), ("dana", "Root cause: we compare emails case-sensitively."))),
    _i("SB-2", "Task", "Upgrade FastAPI to the latest minor release", "Done", "Medium", "dana", "alex",
       ("dependencies",), 30, 20, "Bump FastAPI and Starlette; run the full suite."),
    _i("SB-3", "Bug", "Chat stream stalls after a network reconnect", "To Do", "High", "alex", "dana",
       ("chat", "websocket"), 9, 3, "After Wi-Fi drops, the answer never resumes until a reload."),
    _i("SB-4", "Task", "Add retry with backoff to the webhook sender", "To Do", "Medium", "dana", "priya",
       ("webhooks",), 8, 2, "Retry 5xx and timeouts up to 5 times with exponential backoff."),
    _i("SB-5", "Story", "Dark mode for the web app", "In Progress", "Low", "jordan", "sam", ("ui",), 20, 4),
    _i("SB-6", "Bug", "Rate limit headers missing on 429 responses", "In Review", "Medium", "alex", "priya",
       ("api",), 6, 1),
    _i("SB-7", "Story", "Show the last connection test result on the integrations page", "In Review", "Medium",
       "dana", "alex", ("ui", "integrations"), 15, 0.5,
       "Each integration card shows when it was last tested and whether it passed.",
       (("alex", "Design approved."),)),
    _i("SB-8", "Task", "Document the HL7 routing rules", "Done", "Low", "priya", "dana", ("docs", "hl7"), 40, 25),
    _i("SB-9", "Bug", "FHIR patient search ignores the birthdate filter", "To Do", "High", None, "jordan",
       ("fhir",), 5, 5),
    _i("SB-10", "Task", "Add PostgreSQL to the CI matrix", "Done", "Medium", "alex", "alex", ("ci",), 45, 38),
    _i("SB-11", "Story", "Approve tool calls from the mobile layout", "To Do", "Medium", "jordan", "dana",
       ("ui", "approvals"), 7, 6),
    _i("SB-12", "Bug", "Audit log export times out for large ranges", "In Progress", "High", "priya", "alex",
       ("audit",), 10, 2),
    _i("SB-13", "Task", "Remove the deprecated v0 endpoints", "To Do", "Lowest", None, "alex", ("api", "cleanup"),
       60, 50),
    _i("SB-14", "Bug", "Typo in the password reset email", "Done", "Lowest", "sam", "sam", ("email",), 18, 16),
    _i("SB-15", "Story", "Search Jira issues from the chat", "Done", "High", "alex", "dana", ("jira", "chat"),
       25, 9),
    _i("SB-16", "Task", "Load test the WebSocket gateway", "To Do", "Medium", "jordan", "priya",
       ("performance", "websocket"), 4, 4),
    _i("SB-17", "Bug", "Integration form loses the token when validation fails", "In Progress", "Medium", "sam",
       "jordan", ("ui", "integrations"), 3, 1),
    _i("SB-18", "Task", "Write the connector authoring guide", "To Do", "Low", "alex", "alex", ("docs",), 2, 2),
    _i("OPS-1", "Incident", "API latency spike after the 02:00 deploy", "Done", "Highest", "dana", "priya",
       ("latency",), 21, 20, "p95 went from 120 ms to 2 s for 25 minutes; rolled back.",
       (("priya", "Postmortem scheduled."),), ("Network",)),
    _i("OPS-2", "Incident", "Nightly database backup job exceeded its window", "In Progress", "Highest", "dana",
       "priya", ("database", "backup"), 2, 0.2,
       "The backup ran 3 h 40 min (window: 2 h) and overlapped with the morning batch.",
       (("priya", "Happened twice this week."), ("dana", "Looking at the WAL volume first.")), ("Database",)),
    _i("OPS-3", "Task", "Renew the wildcard DNS certificate", "Done", "High", "priya", "priya", ("tls", "dns"),
       35, 28),
    _i("OPS-4", "Task", "Set up alerting for disk usage above 80%", "To Do", "Medium", "jordan", "priya",
       ("monitoring",), 11, 9),
    _i("OPS-5", "Task", "Rotate the TLS certificate for the HL7 gateway", "To Do", "High", "dana", "priya",
       ("tls", "hl7"), 6, 3, "The certificate expires in 14 days; coordinate with the lab's interface team."),
    _i("OPS-6", "Incident", "Intermittent MLLP disconnects from the lab system", "In Progress", "High", "priya",
       "jordan", ("hl7", "network"), 5, 1, components=("Integrations",)),
    _i("OPS-7", "Task", "Patch the bastion hosts", "Done", "Medium", "jordan", "priya", ("security",), 14, 12),
    _i("OPS-8", "Task", "Move staging to the new VPC", "In Review", "Medium", "priya", "priya", ("network",), 16, 2),
    _i("OPS-9", "Incident", "Redis failover took 90 seconds", "Done", "High", "jordan", "priya",
       ("redis", "failover"), 9, 7, components=("Database",)),
    _i("OPS-10", "Task", "Document the on-call escalation policy", "To Do", "Low", None, "priya",
       ("docs", "on-call"), 22, 22),
    _i("OPS-11", "Task", "Archive logs older than 90 days", "To Do", "Lowest", "jordan", "jordan", ("logs",), 1, 1),
    _i("OPS-12", "Incident", "Webhook deliveries delayed by 10 minutes", "To Do", "Medium", None, "alex",
       ("webhooks",), 0.5, 0.5, components=("Integrations",)),
    _i("MKT-1", "Task", "Plan the spring product webinar", "Done", "Medium", "sam", "sam", ("events",), 50, 30),
    _i("MKT-2", "Task", "Refresh the pricing page screenshots", "In Progress", "Low", "sam", "sam", ("website",),
       8, 2),
    _i("MKT-3", "Task", "Draft the release notes for version 2.4", "To Do", "Low", "dana", "sam", ("release",),
       4, 2.5, "Cover the Jira connector, the EMR aggregate view and the new approval flow."),
    _i("MKT-4", "Task", "Customer case study: regional hospital network", "In Review", "Medium", "jordan", "sam",
       ("content",), 26, 5),
    _i("MKT-5", "Task", "Update the brand guidelines", "To Do", "Lowest", None, "sam", ("brand",), 33, 33),
    _i("MKT-6", "Task", "Record a two-minute demo video", "To Do", "Medium", "sam", "dana", ("video", "release"),
       3, 3),
    _i("MKT-7", "Task", "Translate the landing page into Portuguese", "Done", "Low", "jordan", "sam",
       ("website", "i18n"), 40, 35),
    _i("MKT-8", "Task", "Prepare the booth for the health IT conference", "In Progress", "High", "sam", "sam",
       ("events",), 12, 1),
    _i("MKT-9", "Task", "Newsletter: November edition", "Done", "Medium", "sam", "sam", ("newsletter",), 20, 18),
    _i("MKT-10", "Task", "Collect quotes from beta customers", "To Do", "Medium", "alex", "sam", ("content",), 6, 6),
)  # fmt: skip
