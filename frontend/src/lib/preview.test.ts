import { describe, expect, it } from "vitest";
import { plainPreview } from "./preview";

describe("plainPreview", () => {
  it("drops markdown emphasis, code marks and links", () => {
    expect(plainPreview("You have **6** open issues, see [SB-1](http://x/browse/SB-1) and `code`.")).toBe(
      "You have 6 open issues, see SB-1 and code.",
    );
    expect(plainPreview("*ADT^A01* message, version _2.5.1_")).toBe("ADT^A01 message, version 2.5.1");
  });

  it("flattens headings, lists, tables and code blocks into one line", () => {
    const text = "## Your systems\n- **Demo Jira** (Jira)\n\n| Key | Summary |\n| --- | --- |\n| SB-1 | Login |\n```\nraw\n```";
    expect(plainPreview(text)).toBe("Your systems Demo Jira (Jira) Key Summary SB-1 Login");
  });

  it("keeps identifiers with underscores and shortens long text", () => {
    expect(plainPreview("call demo_jira__create_issue now")).toBe("call demo_jira__create_issue now");
    expect(plainPreview("word ".repeat(50), 20)).toBe("word word word word…");
  });
});
