/** Every REST resource as a small typed wrapper over `HttpCore.request`: an endpoint's shape lives here once. */

import { type HttpCore, type StoredTokens, tokensFromPair } from "./http.js";
import { ChatStream, type StreamOptions } from "./stream.js";
import type {
  ApiKey,
  ApiKeyCreate,
  ApiKeyCreated,
  ApiKeyUpdate,
  ConnectionTestResult,
  Hl7Accepted,
  Hl7Message,
  Hl7MessageSummary,
  Integration,
  IntegrationCreate,
  IntegrationType,
  IntegrationUpdate,
  JsonObject,
  Message,
  Page,
  Session,
  SessionCreated,
  TokenPair,
  User,
  Webhook,
  WebhookCreate,
  WebhookCreated,
  WebhookDelivery,
  WebhookUpdate,
} from "./types.js";

const id = (value: string) => encodeURIComponent(value);

export interface Paging {
  page?: number;
  size?: number;
}

export class Auth {
  constructor(private readonly core: HttpCore) {}

  register(body: { email: string; username: string; password: string; fullName?: string }): Promise<User> {
    const { fullName, ...rest } = body;
    return this.core.request("POST", "/auth/register", { anonymous: true, body: { ...rest, full_name: fullName } });
  }

  /** Sign in; the client keeps the tokens and refreshes them before they expire. */
  async login(username: string, password: string): Promise<TokenPair> {
    const pair = await this.core.request<TokenPair>("POST", "/auth/login", { anonymous: true, body: { username, password } });
    this.core.tokens.save(tokensFromPair(pair));
    return pair;
  }

  /** Exchange the refresh token now (the client also does this by itself). */
  async refresh(): Promise<StoredTokens | null> {
    return (await this.core.refresh()) ? this.core.tokens.load() : null;
  }

  me(): Promise<User> {
    return this.core.request("GET", "/auth/me");
  }

  /** Revoke the refresh token on the server and forget the tokens. */
  async logout(): Promise<void> {
    const refreshToken = this.core.tokens.load()?.refreshToken;
    try {
      if (refreshToken) await this.core.request("POST", "/auth/logout", { body: { refresh_token: refreshToken } });
    } finally {
      this.core.tokens.clear();
    }
  }
}

export class Chat {
  constructor(private readonly core: HttpCore) {}

  /** Create a session with its first message (answered by the first stream opened for it). */
  createSession(message: string, metadata?: JsonObject): Promise<SessionCreated> {
    return this.core.request("POST", "/chat/sessions", { body: { message, metadata: metadata ?? {} } });
  }

  listSessions(options: Paging & { q?: string } = {}): Promise<Page<Session>> {
    return this.core.request("GET", "/chat/sessions", { query: { page: options.page, size: options.size, q: options.q } });
  }

  getSession(sessionId: string): Promise<Session> {
    return this.core.request("GET", `/chat/sessions/${id(sessionId)}`);
  }

  renameSession(sessionId: string, title: string): Promise<Session> {
    return this.core.request("PATCH", `/chat/sessions/${id(sessionId)}`, { body: { title } });
  }

  deleteSession(sessionId: string): Promise<void> {
    return this.core.request("DELETE", `/chat/sessions/${id(sessionId)}`);
  }

  messages(sessionId: string, options: Paging = {}): Promise<Page<Message>> {
    return this.core.request("GET", `/chat/sessions/${id(sessionId)}/messages`, { query: { ...options } });
  }

  /** Send a message and wait for the whole answer (no streaming). */
  send(sessionId: string, message: string): Promise<Message> {
    return this.core.request("POST", `/chat/sessions/${id(sessionId)}/messages`, { body: { message } });
  }

  /** The session as Markdown text or as its JSON document. */
  async export(sessionId: string, format: "markdown" | "json" = "markdown"): Promise<string> {
    const response = await this.core.send("GET", `/chat/sessions/${id(sessionId)}/export`, { query: { format } });
    return response.text();
  }

  /** A streamed turn: iterate its frames; approve, cancel; reconnects and resumes by itself. */
  stream(sessionId: string, options: StreamOptions = {}): ChatStream {
    return new ChatStream(this.core, sessionId, options);
  }
}

export class Integrations {
  constructor(private readonly core: HttpCore) {}

  list(options: Paging = {}): Promise<Page<Integration>> {
    return this.core.request("GET", "/integrations", { query: { ...options } });
  }

  get(integrationId: string): Promise<Integration> {
    return this.core.request("GET", `/integrations/${id(integrationId)}`);
  }

  create(body: IntegrationCreate): Promise<Integration> {
    return this.core.request("POST", "/integrations", { body });
  }

  update(integrationId: string, body: IntegrationUpdate): Promise<Integration> {
    return this.core.request("PATCH", `/integrations/${id(integrationId)}`, { body });
  }

  delete(integrationId: string): Promise<void> {
    return this.core.request("DELETE", `/integrations/${id(integrationId)}`);
  }

  /** Run the step-by-step connection test (never throws for an unreachable system: `ok: false`). */
  test(integrationId: string): Promise<ConnectionTestResult> {
    return this.core.request("POST", `/integrations/${id(integrationId)}/test`);
  }

  types(): Promise<IntegrationType[]> {
    return this.core.request("GET", "/integrations/types");
  }
}

export class ApiKeys {
  constructor(private readonly core: HttpCore) {}

  /** Create a key; its secret `key` is in this response only. */
  create(body: ApiKeyCreate): Promise<ApiKeyCreated> {
    return this.core.request("POST", "/api-keys", { body });
  }

  list(options: Paging = {}): Promise<Page<ApiKey>> {
    return this.core.request("GET", "/api-keys", { query: { ...options } });
  }

  get(keyId: string): Promise<ApiKey> {
    return this.core.request("GET", `/api-keys/${id(keyId)}`);
  }

  update(keyId: string, body: ApiKeyUpdate): Promise<ApiKey> {
    return this.core.request("PATCH", `/api-keys/${id(keyId)}`, { body });
  }

  delete(keyId: string): Promise<void> {
    return this.core.request("DELETE", `/api-keys/${id(keyId)}`);
  }
}

export class Webhooks {
  constructor(private readonly core: HttpCore) {}

  /** Create a webhook; its signing `secret` is in this response only. */
  create(body: WebhookCreate): Promise<WebhookCreated> {
    return this.core.request("POST", "/webhooks", { body });
  }

  list(options: Paging = {}): Promise<Page<Webhook>> {
    return this.core.request("GET", "/webhooks", { query: { ...options } });
  }

  get(webhookId: string): Promise<Webhook> {
    return this.core.request("GET", `/webhooks/${id(webhookId)}`);
  }

  update(webhookId: string, body: WebhookUpdate): Promise<Webhook> {
    return this.core.request("PATCH", `/webhooks/${id(webhookId)}`, { body });
  }

  delete(webhookId: string): Promise<void> {
    return this.core.request("DELETE", `/webhooks/${id(webhookId)}`);
  }

  /** Send a `webhook.test` delivery now. */
  test(webhookId: string): Promise<WebhookDelivery> {
    return this.core.request("POST", `/webhooks/${id(webhookId)}/test`);
  }

  deliveries(webhookId: string, options: Paging = {}): Promise<Page<WebhookDelivery>> {
    return this.core.request("GET", `/webhooks/${id(webhookId)}/deliveries`, { query: { ...options } });
  }
}

/** `GET /messages` filters (the server may offer more: they pass through as query parameters). */
export interface MessageFilters extends Paging {
  status?: string;
  message_type?: string;
  patient_id?: string;
  direction?: "inbound" | "outbound";
  control_id?: string;
  since?: string;
  [filter: string]: string | number | undefined;
}

/** HL7 v2 messages through the routing engine. */
export class Messages {
  constructor(private readonly core: HttpCore) {}

  /** Submit a message (`metadata.destination`: integration names or ids). */
  send(message: string, metadata: { source?: string; destination?: string[] } & JsonObject = {}): Promise<Hl7Accepted> {
    return this.core.request("POST", "/messages", {
      body: { content_type: "application/hl7-v2", message, metadata },
    });
  }

  get(messageId: string): Promise<Hl7Message> {
    return this.core.request("GET", `/messages/${id(messageId)}`);
  }

  list(filters: MessageFilters = {}): Promise<Page<Hl7MessageSummary>> {
    return this.core.request("GET", "/messages", { query: { ...filters } });
  }

  replay(messageId: string): Promise<Hl7Accepted> {
    return this.core.request("POST", `/messages/${id(messageId)}/replay`);
  }
}
