// A webhook receiver on node:http that verifies every delivery before trusting it.
//   WEBHOOK_SECRET=… PORT=9000 node examples/webhook-receiver.mjs
import { createServer } from "node:http";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature, WebhookVerificationError } from "@switchboard/client";

const secret = process.env.WEBHOOK_SECRET;
const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", async () => {
    const body = Buffer.concat(chunks); // verify the raw bytes, before parsing them
    try {
      await verifyWebhookSignature({
        secret,
        body,
        signature: request.headers[SIGNATURE_HEADER.toLowerCase()] ?? "",
        timestamp: request.headers[TIMESTAMP_HEADER.toLowerCase()] ?? "",
      });
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      console.log(`refused: ${error.code}`);
      response.writeHead(401).end();
      return;
    }
    const event = JSON.parse(body.toString("utf8"));
    console.log(`verified ${event.event}`);
    response.writeHead(204).end();
  });
});
server.listen(Number(process.env.PORT ?? 9000), "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
