import { describe, expect, it } from "vitest";
import { ackLine, formatAge, queueActions, queueState, queueTone, sortQueues, trafficPoints, trafficSummary, trafficTotals } from "./hl7Engine";
import type { Hl7Queue, Hl7QueueHead, Hl7TrafficStats } from "./protocol";

const head: Hl7QueueHead = {
  delivery_id: "d",
  message_id: "m",
  seq: 4,
  control_id: "Q1",
  message_type: "ADT^A01",
  status: "retrying",
  attempts: 3,
  ack_code: null,
  ack: null,
  error: "Connection refused",
  next_attempt_at: "2026-01-01T00:00:10Z",
  waiting_since: "2026-01-01T00:00:00Z",
};
const queue: Hl7Queue = {
  integration_id: "i",
  destination: "LIS",
  depth: 3,
  oldest_age_s: 75,
  paused: false,
  paused_by: null,
  held_by: null,
  blocked: true,
  why: "The head failed",
  head,
};

describe("traffic", () => {
  const stats: Hl7TrafficStats = {
    since: "2026-01-01T10:00:00Z",
    minutes: [
      { minute: "2026-01-01T10:00:00Z", received: 3, acks: { AA: 2, none: 1 } },
      { minute: "2026-01-01T10:01:00Z", received: 0, acks: {} },
      { minute: "2026-01-01T10:02:00Z", received: 5, acks: { CA: 1, AE: 2, CR: 1 } },
    ],
  };

  it("gives every minute a point, enhanced ACK codes counted with their twins", () => {
    expect(trafficPoints(stats)).toEqual([
      { t: "2026-01-01T10:00:00Z", received: 3, AA: 2, AE: 0, AR: 0, none: 1 },
      { t: "2026-01-01T10:01:00Z", received: 0, AA: 0, AE: 0, AR: 0, none: 0 },
      { t: "2026-01-01T10:02:00Z", received: 5, AA: 1, AE: 2, AR: 1, none: 0 },
    ]);
  });

  it("totals and words the window", () => {
    const points = trafficPoints(stats);
    expect(trafficTotals(points)).toEqual({ received: 8, AA: 3, AE: 2, AR: 1, none: 1 });
    expect(trafficSummary(points)).toBe("8 received (peak 5/min); outcomes: 3 AA, 2 AE, 1 AR, 1 without ACK");
    expect(trafficSummary([])).toBe("0 received (peak 0/min); outcomes: none yet");
  });
});

describe("queues", () => {
  it("words the age of the oldest message", () => {
    expect(formatAge(null)).toBe("—");
    expect(formatAge(8.4)).toBe("8 s");
    expect(formatAge(75)).toBe("1 min");
    expect(formatAge(2 * 3600 + 5 * 60)).toBe("2 h 5 min");
    expect(formatAge(3600)).toBe("1 h");
    expect(formatAge(3 * 86400)).toBe("3 d");
  });

  it("names the state: paused over blocked over sending", () => {
    expect(queueState(queue)).toBe("blocked");
    expect(queueState({ ...queue, paused: true })).toBe("paused");
    expect(queueState({ ...queue, blocked: false, head: { ...head, status: "sent" } })).toBe("sending");
    expect(queueState({ ...queue, blocked: false, head: { ...head, status: "queued" } })).toBe("draining");
    expect(queueState({ ...queue, blocked: false, depth: 0, head: null })).toBe("empty");
    expect(queueTone("blocked")).toBe("bad");
    expect(queueTone("paused")).toBe("warn");
  });

  it("offers only the actions the server would take", () => {
    expect(queueActions(queue)).toEqual({ retry: true, skip: true, pause: true, resume: false });
    // A head on the wire: skip only once paused.
    const sending = { ...queue, head: { ...head, status: "sent" } };
    expect(queueActions(sending)).toMatchObject({ retry: false, skip: false });
    expect(queueActions({ ...sending, paused: true })).toEqual({ retry: false, skip: true, pause: false, resume: true });
    expect(queueActions({ ...queue, head: null })).toMatchObject({ retry: false, skip: false, pause: true });
  });

  it("puts the stuck queues on top, then the deepest", () => {
    const idle = { ...queue, destination: "A idle", blocked: false, depth: 0, head: null };
    const busy = { ...queue, destination: "B busy", blocked: false, depth: 9 };
    const paused = { ...queue, destination: "C paused", paused: true, blocked: true };
    const stuck = { ...queue, destination: "D stuck" };
    expect(sortQueues([idle, busy, paused, stuck]).map((q) => q.destination)).toEqual(["D stuck", "C paused", "B busy", "A idle"]);
  });

  it("finds the MSA segment of the last ACK", () => {
    expect(ackLine("MSH|^~\\&|LIS\rMSA|AE|Q1|Unknown patient\rERR|x")).toBe("MSA|AE|Q1|Unknown patient");
    expect(ackLine(null)).toBeNull();
  });
});
