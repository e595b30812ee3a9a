/**
 * REST bodies by name, from the generated OpenAPI types (src/generated/openapi.ts): the server's
 * pydantic schemas are the one source, so these never drift from what it sends.
 */

import type { components, operations, paths } from "./generated/openapi.js";

type Schemas = components["schemas"];

export type { components, operations, paths };
export type User = Schemas["UserOut"];
export type TokenPair = Schemas["TokenPair"];
export type RegisterRequest = Schemas["RegisterRequest"];
export type Page<T> = { items: T[]; total: number; page: number; size: number; pages: number };
export type SessionCreated = Schemas["SessionCreated"];
export type Session = Schemas["SessionOut"];
export type Message = Schemas["backend__chat__schemas__MessageOut"];
export type Integration = Schemas["IntegrationOut"];
export type IntegrationCreate = Schemas["IntegrationCreate"];
export type IntegrationUpdate = Schemas["IntegrationUpdate"];
export type IntegrationType = Schemas["IntegrationType"];
export type ConnectionTestResult = Schemas["TestResultOut"];
export type ApiKey = Schemas["ApiKeyOut"];
export type ApiKeyCreate = Schemas["ApiKeyCreate"];
export type ApiKeyCreated = Schemas["ApiKeyCreated"];
export type ApiKeyUpdate = Schemas["ApiKeyUpdate"];
export type Webhook = Schemas["WebhookOut"];
export type WebhookCreate = Schemas["WebhookCreate"];
export type WebhookCreated = Schemas["WebhookCreated"];
export type WebhookUpdate = Schemas["WebhookUpdate"];
export type WebhookDelivery = Schemas["DeliveryOut"];
export type Hl7Submit = Schemas["SubmitMessage"];
export type Hl7Accepted = Schemas["Accepted"];
export type Hl7Message = Schemas["backend__hl7__schemas__MessageOut"];
export type Hl7MessageSummary = Schemas["MessageSummaryOut"];

/** A JSON value as the API carries it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
