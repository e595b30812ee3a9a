import { describe, expect, it } from "vitest";
import { buildUrl, formatDetail } from "./api";
import { parseServerFrame } from "./protocol";
import { parseArgs } from "../components/chat/ApprovalCard";

describe("formatDetail", () => {
  it("keeps string details and joins FastAPI validation errors with their field", () => {
    expect(formatDetail("Invalid credentials")).toBe("Invalid credentials");
    expect(
      formatDetail([
        { loc: ["body", "password"], msg: "String should have at least 8 characters", type: "string_too_short" },
        { loc: ["body"], msg: "Field required", type: "missing" },
      ]),
    ).toBe("password: String should have at least 8 characters; Field required");
  });
});

describe("buildUrl", () => {
  it("prefixes the API base and drops empty query values", () => {
    expect(buildUrl("/chat/sessions", { q: "", page: 2, size: 20, x: undefined })).toBe("/api/v1/chat/sessions?page=2&size=20");
  });
});

describe("parseServerFrame", () => {
  it("accepts a well-formed frame and fills missing envelope fields", () => {
    expect(parseServerFrame('{"type":"token","seq":3,"content":"hi"}')).toEqual({
      type: "token",
      seq: 3,
      content: "hi",
      metadata: {},
      run_id: "",
      timestamp: "",
    });
  });

  it("rejects unknown types, missing seq and non-JSON", () => {
    expect(parseServerFrame('{"type":"evil","seq":1}')).toBeNull();
    expect(parseServerFrame('{"type":"token"}')).toBeNull();
    expect(parseServerFrame("<html>")).toBeNull();
  });
});

describe("parseArgs (approval edit)", () => {
  it("accepts a JSON object and explains anything else", () => {
    expect(parseArgs('{"summary": "x"}')).toEqual({ args: { summary: "x" } });
    expect(parseArgs("[1]")).toEqual({ error: "Arguments must be a JSON object." });
    expect(parseArgs("{oops")).toHaveProperty("error");
  });
});
