import { describe, expect, it } from "vitest";
import { fieldsFromSchema, humanise, initialValues, payloadFromValues } from "./schemaForm";
import type { JsonSchema } from "./protocol";

// Shapes as pydantic v2 emits them (taken from the HL7 connector and a Jira-like model).
const config: JsonSchema = {
  title: "JiraConfig",
  type: "object",
  required: ["base_url", "port"],
  properties: {
    base_url: { title: "Base Url", type: "string", description: "Site URL", maxLength: 200 },
    port: { title: "Port", type: "integer", minimum: 1, maximum: 65535 },
    tls: { title: "Tls", type: "boolean", default: false },
    timeout_s: { title: "Timeout S", type: "number", default: 10.0 },
    deployment: { $ref: "#/$defs/Deployment", default: "cloud" },
    vendor: { anyOf: [{ $ref: "#/$defs/Vendor" }, { type: "null" }], default: null },
    project: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Default project" },
  },
  $defs: {
    Deployment: { title: "Deployment", type: "string", enum: ["cloud", "server"] },
    Vendor: { title: "Vendor", type: "string", enum: ["epic", "cerner", "generic"] },
  },
};

const credentials: JsonSchema = {
  title: "Credentials",
  type: "object",
  required: ["api_token"],
  properties: {
    email: { type: "string", title: "Email" },
    api_token: { type: "string", format: "password", writeOnly: true, title: "Api Token" },
    tls_ca_pem: { anyOf: [{ maxLength: 20000, type: "string" }, { type: "null" }], format: "password", writeOnly: true, default: null },
  },
};

describe("humanise", () => {
  it("spells acronyms in capitals and units out", () => {
    expect(humanise("tls_ca_pem")).toBe("TLS CA PEM");
    expect(humanise("min_interval_ms")).toBe("Min interval (ms)");
    expect(humanise("timeout_s")).toBe("Timeout (seconds)");
    expect(humanise("api_token")).toBe("API token");
    expect(humanise("sending_application")).toBe("Sending application");
    expect(humanise("s")).toBe("S");
  });
});

describe("fieldsFromSchema", () => {
  it("maps types, enums behind $ref and optional anyOf-with-null fields", () => {
    const fields = fieldsFromSchema(config);
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(fields.map((f) => f.name)).toEqual(["base_url", "port", "tls", "timeout_s", "deployment", "vendor", "project"]);
    expect(byName.base_url).toMatchObject({ kind: "string", required: true, description: "Site URL", label: "Base URL" });
    expect(byName.port).toMatchObject({ kind: "integer", minimum: 1, maximum: 65535 });
    expect(byName.tls).toMatchObject({ kind: "boolean", defaultValue: false });
    expect(byName.timeout_s).toMatchObject({ kind: "number", label: "Timeout (seconds)" });
    expect(byName.deployment).toMatchObject({ kind: "enum", options: ["cloud", "server"], defaultValue: "cloud" });
    expect(byName.vendor).toMatchObject({ kind: "enum", nullable: true, options: ["epic", "cerner", "generic"], required: false });
    expect(byName.project).toMatchObject({ kind: "string", nullable: true, label: "Default project" });
  });

  it("marks password and writeOnly fields as secret and long ones as text areas", () => {
    const fields = fieldsFromSchema(credentials);
    expect(fields.map((f) => [f.name, f.secret, f.kind])).toEqual([
      ["email", false, "string"],
      ["api_token", true, "string"],
      ["tls_ca_pem", true, "text"],
    ]);
  });
});

describe("initialValues / payloadFromValues", () => {
  it("pre-fills stored config but never secrets", () => {
    const values = initialValues(fieldsFromSchema(credentials), { email: "a@b.c", api_token: "leak" });
    expect(values).toEqual({ email: "a@b.c", api_token: "", tls_ca_pem: "" });
  });

  it("uses defaults on create and converts types", () => {
    const fields = fieldsFromSchema(config);
    const values = { ...initialValues(fields, null), base_url: " https://x.atlassian.net ", port: "443" };
    expect(payloadFromValues(fields, values, false)).toEqual({
      value: { base_url: "https://x.atlassian.net", port: 443, tls: false, timeout_s: 10, deployment: "cloud" },
      errors: {},
    });
  });

  it("reports missing, non-numeric and out-of-range values", () => {
    const fields = fieldsFromSchema(config);
    const { errors } = payloadFromValues(fields, { ...initialValues(fields, null), port: "70000", timeout_s: "soon" }, false);
    expect(Object.keys(errors).sort()).toEqual(["base_url", "port", "timeout_s"]);
    expect(errors.port).toMatch(/at most 65535/);
  });

  it("requires a secret on create but keeps the stored one when left blank on edit", () => {
    const fields = fieldsFromSchema(credentials);
    expect(payloadFromValues(fields, { email: "", api_token: "", tls_ca_pem: "" }, false).errors).toHaveProperty("api_token");
    expect(payloadFromValues(fields, { email: "", api_token: "", tls_ca_pem: "" }, true)).toEqual({ value: {}, errors: {} });
  });
});
