import { inject } from "vitest";
import { Switchboard, type ServerFrame } from "../src/index.js";

export const mainUrl = () => inject("mainUrl");
export const slowUrl = () => inject("slowUrl");
export const PASSWORD = "correct horse battery";

let counter = 0;

/** A new user on `baseUrl`, signed in. The first one on a server is its admin. */
export async function signedIn(baseUrl: string = mainUrl(), prefix = "ts"): Promise<{ sb: Switchboard; username: string; id: string }> {
  const sb = new Switchboard({ baseUrl });
  const username = `${prefix}_${Date.now().toString(36)}_${counter++}`;
  const user = await sb.auth.register({ email: `${username}@example.com`, username, password: PASSWORD, fullName: "TS Client" });
  await sb.auth.login(username, PASSWORD);
  return { sb, username, id: user.id };
}

/** Every frame of a stream until it ends. */
export async function collect(frames: AsyncIterable<ServerFrame>): Promise<ServerFrame[]> {
  const out: ServerFrame[] = [];
  for await (const frame of frames) out.push(frame);
  return out;
}

export const ofType = <T extends ServerFrame["type"]>(frames: ServerFrame[], type: T) =>
  frames.filter((f): f is Extract<ServerFrame, { type: T }> => f.type === type);
