"""HL7 v2: parse, validate and explain messages (hl7apy), build ACKs, MLLP client and listener."""
