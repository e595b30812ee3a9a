/**
 * Form fields from the JSON schemas pydantic v2 produces (GET /integrations/types), and the
 * conversion of what the user typed back into a typed payload. Pure, so it is unit-tested.
 */

import type { JsonObject, JsonSchema, JsonValue } from "./protocol";

export type FieldKind = "string" | "text" | "integer" | "number" | "boolean" | "enum" | "list" | "json";

export interface FormField {
  name: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  /** Write-only (a password, token or key): masked, never pre-filled, blank keeps the stored value. */
  secret: boolean;
  nullable: boolean;
  description: string;
  defaultValue: JsonValue | undefined;
  options: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export type FormValues = Record<string, string | boolean>;

/** Long string fields (certificates, messages) get a textarea. */
const TEXTAREA_MIN_LENGTH = 1000;

function resolveRef(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const match = /^#\/\$defs\/(.+)$/.exec(schema.$ref);
  const target = match?.[1] ? root.$defs?.[match[1]] : undefined;
  const { $ref: _ref, ...rest } = schema;
  return target ? { ...resolveRef(target, root), ...rest } : rest;
}

/** Flatten $ref, single-entry allOf and `anyOf: [X, null]` into one schema plus a nullable flag. */
function normalise(schema: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  let current = resolveRef(schema, root);
  if (current.allOf && current.allOf.length === 1 && current.allOf[0]) {
    const { allOf, ...rest } = current;
    current = { ...resolveRef(allOf[0] as JsonSchema, root), ...rest };
  }
  const union = current.anyOf ?? current.oneOf;
  if (union) {
    const nonNull = union.filter((option) => option.type !== "null");
    const nullable = nonNull.length < union.length;
    const { anyOf: _a, oneOf: _o, ...rest } = current;
    const first = nonNull[0];
    if (nonNull.length === 1 && first) {
      return { schema: { ...resolveRef(first, root), ...rest }, nullable };
    }
    // Several non-null options: offer their enum values if they are all enums, else free text.
    const values = nonNull.flatMap((option) => resolveRef(option, root).enum ?? []);
    return { schema: values.length ? { ...rest, type: "string", enum: values } : { ...rest, type: "string" }, nullable };
  }
  if (Array.isArray(current.type)) {
    const types = current.type.filter((t) => t !== "null");
    return { schema: { ...current, type: types[0] ?? "string" }, nullable: types.length < current.type.length };
  }
  return { schema: current, nullable: false };
}

/** Words that read better in capitals, and unit suffixes spelled out. */
const ACRONYMS: Record<string, string> = {
  api: "API", ca: "CA", fhir: "FHIR", hl7: "HL7", http: "HTTP", id: "ID", mllp: "MLLP", pem: "PEM",
  sql: "SQL", ssl: "SSL", tls: "TLS", url: "URL", uri: "URI",
};
const UNITS: Record<string, string> = { s: "(seconds)", ms: "(ms)" };

/** "timeout_s" → "Timeout (seconds)", "tls_ca_pem" → "TLS CA PEM", "base_url" → "Base URL". */
export function humanise(name: string): string {
  const words = name.split("_").filter(Boolean);
  const last = words.length > 1 ? words[words.length - 1] : undefined;
  const unit = last !== undefined ? UNITS[last] : undefined;
  if (unit) words.pop();
  const text = words.map((word, index) => {
    const acronym = ACRONYMS[word.toLowerCase()];
    if (acronym) return acronym;
    return index === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : word;
  });
  return [...text, ...(unit ? [unit] : [])].join(" ");
}

/** The title pydantic generates from a field name ("base_url" → "Base Url"): not worth showing as is. */
function pydanticTitle(name: string): string {
  return name
    .split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(" ");
}

/** The form fields of an object schema, in declaration order. */
export function fieldsFromSchema(root: JsonSchema): FormField[] {
  const required = new Set(root.required ?? []);
  return Object.entries(root.properties ?? {}).map(([name, raw]) => {
    const { schema, nullable } = normalise(raw, root);
    const enumValues = schema.enum ?? (schema.const !== undefined ? [schema.const] : undefined);
    let kind: FieldKind = "string";
    if (enumValues) kind = "enum";
    else if (schema.type === "boolean") kind = "boolean";
    else if (schema.type === "integer") kind = "integer";
    else if (schema.type === "number") kind = "number";
    else if (schema.type === "array") kind = "list";
    else if (schema.type === "object") kind = "json";
    else if ((schema.maxLength ?? 0) >= TEXTAREA_MIN_LENGTH) kind = "text";
    const field: FormField = {
      name,
      label: schema.title && schema.title !== pydanticTitle(name) ? schema.title : humanise(name),
      kind,
      required: required.has(name),
      secret: schema.format === "password" || schema.writeOnly === true || raw.writeOnly === true,
      nullable,
      description: schema.description ?? "",
      defaultValue: schema.default,
      options: (enumValues ?? []).map((value) => String(value)),
    };
    if (schema.minimum !== undefined) field.minimum = schema.minimum;
    if (schema.maximum !== undefined) field.maximum = schema.maximum;
    if (schema.minLength !== undefined) field.minLength = schema.minLength;
    if (schema.maxLength !== undefined) field.maxLength = schema.maxLength;
    if (schema.pattern !== undefined) field.pattern = schema.pattern;
    return field;
  });
}

/** Initial form values: stored config on edit (never secrets), else the schema defaults. */
export function initialValues(fields: FormField[], stored: JsonObject | null): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const source = field.secret ? undefined : stored ? stored[field.name] : undefined;
    const value = source !== undefined ? source : field.defaultValue;
    if (field.kind === "boolean") values[field.name] = value === true;
    else if (value === undefined || value === null) values[field.name] = "";
    else if (field.kind === "list" && Array.isArray(value)) values[field.name] = value.map(String).join(", ");
    else if (field.kind === "json" || typeof value === "object") values[field.name] = JSON.stringify(value, null, 2);
    else values[field.name] = String(value);
  }
  return values;
}

export interface PayloadResult {
  value: JsonObject;
  errors: Record<string, string>;
}

/**
 * Convert form values to a payload. Blank optional fields are left out (the server applies its
 * default); blank secrets are left out on edit so the stored ones are kept.
 */
export function payloadFromValues(fields: FormField[], values: FormValues, editing: boolean): PayloadResult {
  const value: JsonObject = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const input = values[field.name];
    if (field.kind === "boolean") {
      value[field.name] = input === true;
      continue;
    }
    const text = typeof input === "string" ? (field.secret || field.kind === "text" ? input : input.trim()) : "";
    if (text === "") {
      if (field.required && !(field.secret && editing)) errors[field.name] = `${field.label} is required.`;
      continue;
    }
    if (field.kind === "integer" || field.kind === "number") {
      const parsed = Number(text);
      if (!Number.isFinite(parsed) || (field.kind === "integer" && !Number.isInteger(parsed))) {
        errors[field.name] = `${field.label} must be ${field.kind === "integer" ? "a whole number" : "a number"}.`;
        continue;
      }
      if (field.minimum !== undefined && parsed < field.minimum) {
        errors[field.name] = `${field.label} must be at least ${field.minimum}.`;
        continue;
      }
      if (field.maximum !== undefined && parsed > field.maximum) {
        errors[field.name] = `${field.label} must be at most ${field.maximum}.`;
        continue;
      }
      value[field.name] = parsed;
      continue;
    }
    if (field.kind === "list") {
      // Comma-separated, as a person would type labels or names.
      value[field.name] = text.split(",").map((item) => item.trim()).filter(Boolean);
      continue;
    }
    if (field.kind === "json") {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
        value[field.name] = parsed as JsonObject;
      } catch {
        errors[field.name] = `${field.label} must be a JSON object, e.g. {"name": "value"}.`;
      }
      continue;
    }
    if (field.kind === "enum" && !field.options.includes(text)) {
      errors[field.name] = `${field.label} must be one of ${field.options.join(", ")}.`;
      continue;
    }
    if (field.maxLength !== undefined && text.length > field.maxLength) {
      errors[field.name] = `${field.label} must be at most ${field.maxLength} characters.`;
      continue;
    }
    if (field.minLength !== undefined && text.length < field.minLength) {
      errors[field.name] = `${field.label} must be at least ${field.minLength} characters.`;
      continue;
    }
    value[field.name] = text;
  }
  return { value, errors };
}
