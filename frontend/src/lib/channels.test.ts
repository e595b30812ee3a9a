import { describe, expect, it } from "vitest";
import { ApiError } from "./api";
import { channelBody, channelErrors, checkDraft, draftFromChannel, emptyDraft, filterSummary, splitList, stepSummary, unplacedErrors } from "./channels";
import type { Hl7Channel } from "./protocol";

const stored: Hl7Channel = {
  id: "c1",
  name: "ADT to the lab",
  enabled: true,
  sources: ["api"],
  filter: { message_types: ["ADT^A0*", "ORU^R01"], sending_applications: ["EMR"], sending_facilities: [], versions: ["2.5*"] },
  transform: [{ set: "MSH-5", value: "LAB" }, { copy: "PID-3.1", to: "PID-2" }, { delete: "PID-19" }],
  destinations: ["LIS"],
  destination_details: [{ id: "d1", name: "LIS" }],
  ordering: "fifo",
  validation: "warn",
  on_negative_ack: "fail",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

describe("channel drafts", () => {
  it("splits pattern lists on commas and lines, dropping blanks", () => {
    expect(splitList(" ADT^A0*, ORU^R01\n\nLAB* ,")).toEqual(["ADT^A0*", "ORU^R01", "LAB*"]);
  });

  it("round-trips a stored channel through the form to the same body", () => {
    const body = channelBody(draftFromChannel(stored));
    expect(body).toEqual({
      name: "ADT to the lab",
      enabled: true,
      sources: ["api"],
      filter: { message_types: ["ADT^A0*", "ORU^R01"], sending_applications: ["EMR"], sending_facilities: [], versions: ["2.5*"] },
      transform: [{ set: "MSH-5", value: "LAB" }, { copy: "PID-3.1", to: "PID-2" }, { delete: "PID-19" }],
      destinations: ["d1"],
      ordering: "fifo",
      validation: "warn",
      on_negative_ack: "fail",
    });
  });

  it("starts a new channel with the API's defaults", () => {
    const body = channelBody({ ...emptyDraft(), name: " Feed ", destinations: ["d1"] });
    expect(body).toMatchObject({ name: "Feed", sources: ["api", "mllp"], ordering: "fifo", validation: "off", on_negative_ack: "retry", transform: [] });
    expect(body.filter).toEqual({ message_types: [], sending_applications: [], sending_facilities: [], versions: [] });
  });

  it("says what is missing before asking the server", () => {
    const draft = { ...emptyDraft(), sources: [], transform: [{ kind: "copy" as const, path: "PID-3", value: "", to: "" }, { kind: "set" as const, path: " ", value: "x", to: "" }] };
    expect(checkDraft(draft)).toEqual({
      name: "A name is required.",
      sources: "Pick at least one source.",
      destinations: "Pick at least one destination.",
      "transform.0": "Give the path to copy to.",
      "transform.1": "Give the HL7 path, e.g. MSH-5 or PID-3.1.",
    });
  });

  it("summarises filters and steps in a line each", () => {
    expect(filterSummary(stored)).toBe("ADT^A0*, ORU^R01 from EMR v2.5*");
    expect(filterSummary({ ...stored, filter: {} })).toBe("any type");
    expect(stored.transform.map(stepSummary)).toEqual(["set MSH-5 = LAB", "copy PID-3.1 → PID-2", "delete PID-19"]);
  });
});

describe("channelErrors", () => {
  it("places 422 problems next to their fields, transform steps by number", () => {
    const error = new ApiError("422", {
      status: 422,
      code: "validation_error",
      detail: [
        { loc: ["body", "filter", "message_types"], msg: "Value error, 'ADT^^' is not a valid message type pattern (ADT^A0*, ORU^R01, *)", type: "value_error" },
        { loc: ["body", "transform"], msg: "Value error, transform step 2: 'PID3' is not an HL7 path such as MSH-5, PID-3.1, OBX[2]-5 or NTE.", type: "value_error" },
        { loc: ["body", "transform", 0, "set"], msg: "String should have at most 40 characters", type: "string_too_long" },
        { loc: ["body", "ordering"], msg: "Input should be 'fifo' or 'parallel'", type: "literal_error" },
        { loc: ["body", "colour"], msg: "Extra inputs are not permitted", type: "extra_forbidden" },
      ],
    });
    const errors = channelErrors(error);
    expect(errors["filter.message_types"]).toBe("'ADT^^' is not a valid message type pattern (ADT^A0*, ORU^R01, *)");
    expect(errors["transform.1"]).toContain("'PID3' is not an HL7 path");
    expect(errors["transform.0"]).toBe("String should have at most 40 characters");
    expect(errors.ordering).toBe("Input should be 'fifo' or 'parallel'");
    expect(unplacedErrors(errors, ["filter.message_types", "ordering"])).toEqual(["colour: Extra inputs are not permitted"]);
  });

  it("puts a duplicate name on the name and an unknown destination on the destinations", () => {
    expect(channelErrors(new ApiError("409", { status: 409, code: "channel_exists", detail: "A channel named X exists" }))).toEqual({ name: "A channel named X exists" });
    expect(channelErrors(new ApiError("400", { status: 400, code: "unknown_destination", detail: "Unknown HL7 destination(s): LIS." }))).toEqual({
      destinations: "Unknown HL7 destination(s): LIS.",
    });
  });

  it("keeps anything else for the top of the form", () => {
    expect(channelErrors(new Error("offline"))).toEqual({ form: "offline" });
    expect(unplacedErrors(channelErrors(new ApiError("500 x", { status: 500, code: "internal_error", detail: "Internal server error" })), [])).toEqual(["Internal server error"]);
  });
});
