"""What Jira requests sound like: paraphrases per operation, in many styles, for intent by meaning.

General paraphrase sets (terse, polite, dictated, non-native, manager-speak), not the eval sentences.
Identifiers in them are placeholders of the shape people type; the router never copies them anywhere.
"""

from __future__ import annotations

from agents.offline.understanding import Operation

OPERATIONS: tuple[Operation, ...] = (
    Operation("jira.my_open", "show your open Jira issues", (
        "what am I working on", "my open tickets", "what's on my plate", "show me my jira issues",
        "list the issues assigned to me", "what do I have open", "anything assigned to me", "my todo list in jira",
        "what tickets are mine", "which tasks are still on me", "my work queue", "do I have open tickets",
        "show what is assigned to me please", "my backlog", "tickets i own that are not finished",
        "what should i work on next", "what is in my queue today",
    )),
    Operation("jira.search", "search Jira issues", (
        "find tickets about the login bug", "search jira for backups", "which issues mention timeouts",
        "are there any bugs about websockets", "show open incidents in operations", "issues in the project",
        "list unassigned tickets", "tickets nobody owns", "what's in progress in the team project",
        "high priority bugs that are not done", "anything about certificates", "look for issues about webhooks",
        "which tickets were updated this week", "how many open bugs are there", "show me everything in review",
        "tickets with the label docs", "issues other people are working on", "search issues with jql",
        "find stories in the backlog", "open tasks in marketing", "is there a ticket for the dns renewal",
        "is there something about the server being slow", "anything on the payment failure",
        "do we already track the broken export somewhere",
    )),
    Operation("jira.get", "open one Jira issue", (
        "show me the ticket", "details of that issue", "what's the status of the ticket", "open the issue",
        "tell me more about it", "who is working on that one", "what does the ticket say", "pull up the issue",
        "describe the issue", "what's going on with that ticket", "any comments on it", "who reported it",
        "what priority is it", "give me the details",
    )),
    Operation("jira.create", "create a Jira issue", (
        "create a ticket", "file a bug about the crash", "open a new issue", "log a ticket for this problem",
        "raise a task to renew the certificate", "make a jira for it", "new bug: the page is blank",
        "please write up a ticket about the outage", "can you create an incident", "add a story to the backlog",
        "track this in jira", "put in a ticket so someone fixes it", "record an issue for the failing job",
        "we need a task for updating the docs", "submit a bug report",
    )),
    Operation("jira.comment", "comment on a Jira issue", (
        "add a comment to the ticket", "leave a note on the issue", "comment that the fix is deployed",
        "reply on the ticket saying it works now", "post an update on it", "write on the issue that we are blocked",
        "note on the ticket: waiting for the vendor", "let them know in the ticket that it is fixed",
        "add an update to the issue", "drop a note on the ticket saying the job finished", "tell the ticket that",
        "comment: works for me", "put a remark on it that the customer called",
    )),
    Operation("jira.transition", "change a Jira issue's status", (
        "move it to done", "close the ticket", "mark it as in progress", "resolve the issue", "set it to in review",
        "start working on it", "reopen the ticket", "put the issue back to to do", "change the status to done",
        "we finished it, close it out", "flip it to in progress", "send it to review", "mark as complete",
        "transition the issue", "it's fixed, resolve it please", "i'm starting on it now", "i'll begin work on this",
        "we are done with this one", "this can go to qa", "pause it, back to the backlog",
    )),
    Operation("jira.transitions", "list the statuses a Jira issue can move to", (
        "what statuses can it move to", "which transitions are available", "where can this ticket go next",
        "what are the possible states for it", "can it be moved to review",
    )),
    Operation("jira.assign", "assign a Jira issue", (
        "assign it to me", "give the ticket to alex", "reassign the issue", "I'll take it", "make me the owner",
        "hand it over to priya", "put jordan on this ticket", "unassign the issue", "assign this one to sam",
        "let dana own it", "change the assignee", "nobody should own it anymore", "hand the ticket over to someone",
        "pass it on to jordan", "can alex take this one",
    )),
    Operation("jira.projects", "list your Jira projects", (
        "which projects are there", "list jira projects", "what projects can I see", "show all the projects",
        "what boards do we have", "projects in jira",
    )),
    Operation("jira.whoami", "check which Jira account you use", (
        "who am I in jira", "which account are you using", "am I logged in to jira", "what user are you signed in as",
        "which jira site is this",
    )),
)  # fmt: skip
