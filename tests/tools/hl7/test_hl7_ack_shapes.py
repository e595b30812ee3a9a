"""ACKs as real peers send them, over real MLLP sockets: ERR segments of v2.3 and v2.5+, escaped MSA-3
text, several ERR segments, lower-case codes, ERR before MSA, batch ACKs (FHS/BHS ... BTS/FTS), and
answers that are no ACK at all. Each becomes a clear result; none raises."""

from __future__ import annotations

import pytest

from tools.hl7.mllp import MllpClient, MllpListener

MSG = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|CTRL9|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"
HEAD = "MSH|^~\\&|LIS|LAB|EMR|HOSP|20250101120001||ACK^A01^ACK|ACK1|P|2.5.1"

# name -> (the peer's ACK, accepted, code, pieces the error must carry, MSA-3 text)
CASES: dict[str, tuple[str, bool, str | None, list[str], str | None]] = {
    "v2.5 ERR with diagnostics and escaped text": (
        f"{HEAD}\rMSA|AE|CTRL9|Patient \\T\\ visit unknown\r"
        "ERR||PID^1^3|204^Unknown key identifier^HL70357|E||||PID-3 12345 is not on file",
        False,
        "AE",
        ["204 Unknown key identifier", "PID-3 12345 is not on file", "PID-1-3"],
        "Patient & visit unknown",
    ),
    "v2.3 ERR-1 location and code": (
        f"{HEAD}\rMSA|AR|CTRL9\rERR|PID^1^3^204&Unknown key identifier&HL70357",
        False,
        "AR",
        ["204 Unknown key identifier", "PID-1-3"],
        None,
    ),
    "two ERR segments, a warning and an error": (
        f"{HEAD}\rMSA|AE|CTRL9|\rERR||PV1^1^2|103^Table value not found|W\r"
        "ERR||PID^1^8|102^Data type error|E||||sex must be M, F, O or U",
        False,
        "AE",
        ["warning 103 Table value not found", "error 102 Data type error", "sex must be M, F, O or U"],
        None,
    ),
    "ERR before MSA, lower-case code": (
        f"{HEAD}\rERR||OBX^1^5|102^Data type error|E\rMSA|ae|CTRL9|bad value",
        False,
        "AE",
        ["102 Data type error"],
        "bad value",
    ),
    "batch ACK: the message's own acknowledgement is read": (
        "FHS|^~\\&|LIS|LAB\rBHS|^~\\&|LIS|LAB\r"
        f"{HEAD}\rMSA|AA|OTHER1|ok\r"
        "MSH|^~\\&|LIS|LAB|EMR|HOSP|20250101120002||ACK|ACK2|P|2.5.1\rMSA|AA|CTRL9|Message accepted \\F\\ filed\r"
        "BTS|2\rFTS|1",
        True,
        "AA",
        [],
        "Message accepted | filed",
    ),
    "no MSA at all": ("MSH|^~\\&|LIS|LAB|EMR|HOSP|20250101||ACK|A1|P|2.5.1", False, None, ["ack_mismatch"], None),
    "not HL7": ("<html>502 Bad Gateway</html>", False, None, ["ack_mismatch"], None),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_every_ack_shape_becomes_a_clear_result(case: str) -> None:
    ack, accepted, code, pieces, text = CASES[case]

    async def peer(message: str, _peer: str) -> str:
        return ack

    server = MllpListener(peer)
    await server.start()
    client = MllpClient("127.0.0.1", server.port, timeout_s=3)
    try:
        result = await client.send(MSG)
    finally:
        await client.close()
        await server.stop()
    assert (result.accepted, result.code, result.text) == (accepted, code, text)
    for piece in pieces:
        assert result.error and piece in result.error, result.error
    if accepted:
        assert result.error is None and result.acked_control_id == "CTRL9"
