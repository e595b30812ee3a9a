/** `Switchboard`: the client. One instance per identity (a signed-in user, a token or an API key). */

import { type HttpCore as Core, HttpCore, MemoryTokenStore, type Query, type TokenStore } from "./http.js";
import { Events } from "./events.js";
import { ApiKeys, Auth, Chat, Integrations, Messages, Webhooks } from "./resources.js";

export interface SwitchboardOptions {
  /** The server, e.g. `http://127.0.0.1:8000` (the API lives under `/api/v1`). */
  baseUrl: string;
  /** An access token to start with (e.g. from your own sign-in flow). */
  token?: string | undefined;
  /** A refresh token to go with `token`, so the client can renew it. */
  refreshToken?: string | undefined;
  /** An API key (`sb_...`): REST, the events socket and chat on Node (not browser WebSockets). */
  apiKey?: string | undefined;
  /** Retries of 429 (honouring Retry-After) and of connection failures; default 2. */
  maxRetries?: number | undefined;
  /** Where tokens are kept (default: memory). The web app persists them in localStorage. */
  tokenStore?: TokenStore | undefined;
  fetch?: typeof fetch | undefined;
}

export class Switchboard {
  readonly auth: Auth;
  readonly chat: Chat;
  readonly integrations: Integrations;
  readonly apiKeys: ApiKeys;
  readonly webhooks: Webhooks;
  readonly messages: Messages;
  readonly events: Events;
  /** The HTTP core (credentials, refresh, retries, errors) for calls without a resource method. */
  readonly http: Core;

  constructor(options: SwitchboardOptions) {
    const store = options.tokenStore ?? new MemoryTokenStore();
    if (options.token) store.save({ accessToken: options.token, refreshToken: options.refreshToken });
    this.http = new HttpCore({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      maxRetries: options.maxRetries,
      fetch: options.fetch,
      tokenStore: store,
    });
    this.auth = new Auth(this.http);
    this.chat = new Chat(this.http);
    this.integrations = new Integrations(this.http);
    this.apiKeys = new ApiKeys(this.http);
    this.webhooks = new Webhooks(this.http);
    this.messages = new Messages(this.http);
    this.events = new Events(this.http);
  }

  /** Any API call by method and path under /api/v1 (JSON in, JSON out). */
  request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    return this.http.request<T>(method, path, options);
  }

  /** `GET /health`. */
  health(): Promise<{ status: string; version: string; components: Record<string, unknown> }> {
    return this.http.request("GET", "/health", { root: true, anonymous: true });
  }
}
