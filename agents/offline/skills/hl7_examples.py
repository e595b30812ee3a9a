"""What HL7 requests sound like, per operation, for intent by meaning (analyst, nurse, terse).

These read the user's own words only; a pasted message never reaches the router.
"""

from __future__ import annotations

from agents.offline.understanding import Operation

OPERATIONS: tuple[Operation, ...] = (
    Operation("hl7.explain", "explain an HL7 message", (
        "explain this hl7 message", "what does this message mean", "decode this", "break it down field by field",
        "walk me through the segments", "who is the patient in this message", "what is in this adt",
        "what does the obx say", "translate this hl7 into plain english", "read this message for me",
    )),
    Operation("hl7.validate", "validate an HL7 message", (
        "is this message valid", "check this hl7 for errors", "what's wrong with this message", "lint this",
        "why does the lab keep rejecting it", "will the receiver accept this", "is it ok to send",
        "verify the structure", "find the problems in this message", "does it conform to 2.5.1",
    )),
    Operation("hl7.send", "send an HL7 message", (
        "send this to the receiver", "transmit the message", "forward it to the lab interface",
        "push this to the downstream system", "deliver the adt", "route this message", "resend it",
    )),
    Operation("hl7.ack", "check whether a sent HL7 message was accepted", (
        "did it go through", "was the message accepted", "what was the ack", "did the receiver accept it",
        "did we get an ack back", "was it rejected", "did it fail",
    )),
    Operation("hl7.build", "build an HL7 message", (
        "build an adt a01", "create an admission message", "generate an oru for a lab result",
        "make an order message", "draft a registration message for the patient", "compose an hl7 update",
    )),
    Operation("hl7.recent", "look up recent HL7 traffic", (
        "recent hl7 messages", "any adt today", "what came in from the lab", "show outbound messages",
        "messages for this patient", "latest oru received", "hl7 traffic in the last hour",
    )),
)  # fmt: skip
