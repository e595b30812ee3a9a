// Quickstart: sign in, ask a question, print the streamed answer.
//   SWITCHBOARD_URL=http://127.0.0.1:8000 SWITCHBOARD_USERNAME=you SWITCHBOARD_PASSWORD=… node examples/quickstart.mjs
import { Switchboard } from "@switchboard/client";

const sb = new Switchboard({ baseUrl: process.env.SWITCHBOARD_URL ?? "http://127.0.0.1:8000" });
await sb.auth.login(process.env.SWITCHBOARD_USERNAME, process.env.SWITCHBOARD_PASSWORD);

const { session_id } = await sb.chat.createSession(process.argv[2] ?? "what are my open Jira tickets?");
for await (const frame of sb.chat.stream(session_id)) {
  if (frame.type === "tool_call") console.error(`[calling ${frame.metadata.tool_name}]`);
  if (frame.type === "token") process.stdout.write(frame.content);
  if (frame.type === "final") process.stdout.write(`\n(${frame.metadata.finish_reason})\n`);
}
