// Streaming with approvals: every write the assistant proposes is shown and decided here.
//   node examples/approvals.mjs "create a bug in SB: export button does nothing" [approve|reject]
import { Switchboard } from "@switchboard/client";

const sb = new Switchboard({ baseUrl: process.env.SWITCHBOARD_URL ?? "http://127.0.0.1:8000" });
await sb.auth.login(process.env.SWITCHBOARD_USERNAME, process.env.SWITCHBOARD_PASSWORD);
const decision = process.argv[3] ?? "approve";

const { session_id } = await sb.chat.createSession("hello");
for await (const _ of sb.chat.stream(session_id)); // answer the greeting first

const stream = sb.chat.stream(session_id, { message: process.argv[2] ?? "create a bug in SB: example from the TypeScript client" });
for await (const frame of stream) {
  if (frame.type === "approval_required") {
    console.log(`approval asked: ${frame.metadata.tool_name} ${JSON.stringify(frame.metadata.args)} -> ${decision}`);
    await stream.approve(frame.metadata.tool_call_id, { decision, message: decision === "reject" ? "not now" : undefined });
  }
  if (frame.type === "tool_result") console.log(`tool ${frame.metadata.tool_name}: ${frame.metadata.status}`);
  if (frame.type === "final") console.log(frame.content);
}
