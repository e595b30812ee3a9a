/** The HL7 channel form's logic (pure, unit-tested): a channel as editable text and back to the API's
 * body, and the API's refusals (422 validation, 409 duplicate name, 400 unknown destination) placed
 * next to the fields they are about. */

import { isApiError } from "./api";
import type { Hl7Channel, Hl7ChannelInput, Hl7TransformStep } from "./protocol";

export type TransformKind = "set" | "copy" | "delete";
export type Source = "api" | "mllp";
export type Ordering = "fifo" | "parallel";
export type Validation = "off" | "warn" | "reject";
export type NegativeAck = "retry" | "fail";

export interface StepDraft {
  kind: TransformKind;
  path: string;
  /** The text a `set` writes. */
  value: string;
  /** Where a `copy` writes. */
  to: string;
}

/** A channel as the form holds it: pattern lists as comma/line separated text, destinations as ids. */
export interface ChannelDraft {
  name: string;
  enabled: boolean;
  sources: Source[];
  messageTypes: string;
  sendingApplications: string;
  sendingFacilities: string;
  versions: string;
  transform: StepDraft[];
  destinations: string[];
  ordering: Ordering;
  validation: Validation;
  onNegativeAck: NegativeAck;
}

/** The filter's fields: the draft's key, the API's key and what the form calls it. */
export const FILTER_FIELDS = [
  { draft: "messageTypes", api: "message_types", label: "Message types", hint: "ADT^A0*, ORU^R01, * (MSH-9)" },
  { draft: "sendingApplications", api: "sending_applications", label: "Sending applications", hint: "MSH-3, e.g. EMR, LAB*" },
  { draft: "sendingFacilities", api: "sending_facilities", label: "Sending facilities", hint: "MSH-4" },
  { draft: "versions", api: "versions", label: "Versions", hint: "MSH-12, e.g. 2.5.1 or 2.5*" },
] as const;

export function emptyDraft(): ChannelDraft {
  return {
    name: "",
    enabled: true,
    sources: ["api", "mllp"],
    messageTypes: "",
    sendingApplications: "",
    sendingFacilities: "",
    versions: "",
    transform: [],
    destinations: [],
    ordering: "fifo",
    validation: "off",
    onNegativeAck: "retry",
  };
}

export function emptyStep(kind: TransformKind = "set"): StepDraft {
  return { kind, path: "", value: "", to: "" };
}

/** "ADT^A0*, ORU^R01\nLAB*" → ["ADT^A0*", "ORU^R01", "LAB*"] (blank entries dropped). */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

function joinList(values: readonly string[] | undefined): string {
  return (values ?? []).join(", ");
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** One stored transform step (`{"set": …, "value": …}`, `{"copy": …, "to": …}`, `{"delete": …}`) as a form row. */
export function stepFromApi(step: Record<string, unknown>): StepDraft {
  if (typeof step.copy === "string") return { kind: "copy", path: step.copy, value: "", to: text(step.to) };
  if (typeof step.delete === "string") return { kind: "delete", path: step.delete, value: "", to: "" };
  return { kind: "set", path: text(step.set), value: text(step.value), to: "" };
}

export function stepToApi(step: StepDraft): Hl7TransformStep {
  const path = step.path.trim();
  if (step.kind === "copy") return { copy: path, to: step.to.trim() };
  if (step.kind === "delete") return { delete: path };
  return { set: path, value: step.value };
}

/** A stored channel as the form edits it. */
export function draftFromChannel(channel: Hl7Channel): ChannelDraft {
  const oneOf = <T extends string>(value: string, options: readonly T[], fallback: T): T =>
    (options as readonly string[]).includes(value) ? (value as T) : fallback;
  return {
    name: channel.name,
    enabled: channel.enabled,
    sources: channel.sources.filter((source): source is Source => source === "api" || source === "mllp"),
    messageTypes: joinList(channel.filter.message_types),
    sendingApplications: joinList(channel.filter.sending_applications),
    sendingFacilities: joinList(channel.filter.sending_facilities),
    versions: joinList(channel.filter.versions),
    transform: channel.transform.map(stepFromApi),
    destinations: channel.destination_details.map((destination) => destination.id),
    ordering: oneOf(channel.ordering, ["fifo", "parallel"], "fifo"),
    validation: oneOf(channel.validation, ["off", "warn", "reject"], "off"),
    onNegativeAck: oneOf(channel.on_negative_ack, ["retry", "fail"], "retry"),
  };
}

/** The body for POST /hl7/channels (and, whole, for PATCH /hl7/channels/{id}). */
export function channelBody(draft: ChannelDraft): Hl7ChannelInput {
  return {
    name: draft.name.trim(),
    enabled: draft.enabled,
    sources: draft.sources,
    filter: {
      message_types: splitList(draft.messageTypes),
      sending_applications: splitList(draft.sendingApplications),
      sending_facilities: splitList(draft.sendingFacilities),
      versions: splitList(draft.versions),
    },
    transform: draft.transform.map(stepToApi),
    destinations: draft.destinations,
    ordering: draft.ordering,
    validation: draft.validation,
    on_negative_ack: draft.onNegativeAck,
  };
}

/** What the form can tell before asking the server (the server checks everything again). */
export function checkDraft(draft: ChannelDraft): FieldErrors {
  const errors: FieldErrors = {};
  if (!draft.name.trim()) errors.name = "A name is required.";
  if (!draft.sources.length) errors.sources = "Pick at least one source.";
  if (!draft.destinations.length) errors.destinations = "Pick at least one destination.";
  draft.transform.forEach((step, index) => {
    if (!step.path.trim()) errors[`transform.${index}`] = "Give the HL7 path, e.g. MSH-5 or PID-3.1.";
    else if (step.kind === "copy" && !step.to.trim()) errors[`transform.${index}`] = "Give the path to copy to.";
  });
  return errors;
}

/** Messages by field key: `name`, `sources`, `destinations`, `filter.message_types`, `transform.2`
 * (0-based step), `ordering`…; `form` holds what belongs to no single field. */
export type FieldErrors = Record<string, string>;

function add(errors: FieldErrors, key: string, message: string): void {
  errors[key] = errors[key] ? `${errors[key]} ${message}` : message;
}

/** pydantic's "Value error, 'X' is not …" reads better without its prefix. */
function readable(message: string): string {
  return message.replace(/^Value error, /, "");
}

/** The API's refusal of a channel body, placed by field. */
export function channelErrors(error: unknown): FieldErrors {
  const errors: FieldErrors = {};
  if (!isApiError(error)) {
    add(errors, "form", error instanceof Error ? error.message : String(error));
    return errors;
  }
  if (error.code === "channel_exists") {
    add(errors, "name", typeof error.detail === "string" ? error.detail : "A channel with this name exists.");
    return errors;
  }
  if (error.code === "unknown_destination") {
    add(errors, "destinations", typeof error.detail === "string" ? error.detail : "Unknown destination.");
    return errors;
  }
  if (!Array.isArray(error.detail)) {
    add(errors, "form", typeof error.detail === "string" && error.detail ? error.detail : error.message);
    return errors;
  }
  for (const item of error.detail as unknown[]) {
    if (typeof item !== "object" || item === null) continue;
    const { loc, msg } = item as { loc?: unknown; msg?: unknown };
    const message = readable(String(msg ?? "Invalid value"));
    const path = (Array.isArray(loc) ? loc : []).filter((part) => part !== "body") as Array<string | number>;
    add(errors, fieldKey(path, message), message);
  }
  return errors;
}

function fieldKey(path: Array<string | number>, message: string): string {
  const [first, second] = path;
  if (first === "filter") return typeof second === "string" ? `filter.${second}` : "filter";
  if (first === "transform") {
    if (typeof second === "number") return `transform.${second}`;
    const step = /transform step (\d+)/.exec(message);
    return step ? `transform.${Number(step[1]) - 1}` : "transform";
  }
  return typeof first === "string" ? first : "form";
}

/** Errors about fields the form has no place for (shown at the top of the form). */
export function unplacedErrors(errors: FieldErrors, placed: readonly string[]): string[] {
  return Object.entries(errors)
    .filter(([key]) => !placed.includes(key) && !key.startsWith("transform."))
    .map(([key, message]) => (key === "form" ? message : `${key}: ${message}`));
}

/** One line describing a channel's filter for the list: "ADT^A0* from EMR", "any message". */
export function filterSummary(channel: Hl7Channel): string {
  const { message_types = [], sending_applications = [], sending_facilities = [], versions = [] } = channel.filter;
  const parts = [
    message_types.length ? message_types.join(", ") : "any type",
    sending_applications.length ? `from ${sending_applications.join(", ")}` : "",
    sending_facilities.length ? `at ${sending_facilities.join(", ")}` : "",
    versions.length ? `v${versions.join(", ")}` : "",
  ];
  return parts.filter(Boolean).join(" ");
}

/** "set MSH-5 = LAB", "copy PID-3.1 → PID-2", "delete PID-19". */
export function stepSummary(step: Record<string, unknown>): string {
  const draft = stepFromApi(step);
  if (draft.kind === "copy") return `copy ${draft.path} → ${draft.to}`;
  if (draft.kind === "delete") return `delete ${draft.path}`;
  return `set ${draft.path} = ${draft.value}`;
}
