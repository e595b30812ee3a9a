import { useState } from "react";
import { api } from "../../lib/api";
import { usePolling, useGet } from "../../lib/useApi";
import { ackLine, formatAge, queueActions, queueState, queueTone, sortQueues, trafficPoints, trafficSummary, type TrafficPoint } from "../../lib/hl7Engine";
import type { Hl7Queue, Hl7TrafficStats } from "../../lib/protocol";
import { Badge, ErrorMessage, Spinner } from "../ui/Feedback";
import { ConfirmButton } from "../ui/ConfirmButton";
import { TimeChart } from "./TimeChart";
import "./hl7admin.css";

const QUEUE_POLL_MS = 2000;
const STATS_POLL_MS = 10_000;

type Action = "retry-now" | "skip-head" | "pause" | "resume";
const DONE: Record<Action, string> = {
  "retry-now": "Retrying the head now",
  "skip-head": "Skipped the head",
  pause: "Paused",
  resume: "Resumed",
};

/** Messages received per minute (line) over the destinations' outcomes by ACK code (stacked bars). */
function TrafficChart() {
  const { data, error, loading, reload } = useGet<Hl7TrafficStats>("/hl7/stats", { minutes: 60 });
  usePolling(reload, STATS_POLL_MS);
  const points: TrafficPoint[] = data ? trafficPoints(data) : [];
  return (
    <section aria-label="HL7 traffic" data-testid="hl7-traffic">
      <div className="row">
        <h2 className="grow">Traffic, last hour</h2>
        <button type="button" onClick={reload} aria-label="Refresh traffic chart">
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} />
      {loading && !data ? <Spinner label="Loading traffic" /> : null}
      {data ? (
        <TimeChart
          testId="hl7-traffic-chart"
          title="Messages per minute and ACK codes"
          points={points}
          series={[
            { key: "AA", name: "AA (accepted)", tone: "ok" },
            { key: "AE", name: "AE (error)", tone: "warn" },
            { key: "AR", name: "AR (rejected)", tone: "bad" },
            { key: "none", name: "no ACK", tone: "muted" },
          ]}
          overlay={{ key: "received", name: "received", tone: "accent" }}
          summary={trafficSummary(points)}
        />
      ) : null}
    </section>
  );
}

function QueueCard({ queue, onDone }: { queue: Hl7Queue; onDone: (queue: Hl7Queue | null, message: string, error: unknown) => void }) {
  const [busy, setBusy] = useState<Action | null>(null);
  const name = queue.destination ?? queue.integration_id;
  const state = queueState(queue);
  const allowed = queueActions(queue);
  const head = queue.head;
  const run = async (action: Action) => {
    setBusy(action);
    try {
      const updated = await api.post<Hl7Queue>(`/hl7/queues/${queue.integration_id}/${action}`);
      onDone(updated, `${DONE[action]} on ${name}.`, null);
    } catch (reason) {
      onDone(null, "", reason);
    } finally {
      setBusy(null);
    }
  };
  const last = ackLine(head?.ack);
  return (
    <li className="card queue" aria-label={`Queue of ${name}`} data-testid="queue-row" data-state={state}>
      <div className="row">
        <h3 className="grow">{name}</h3>
        <Badge tone={queueTone(state)}>{state}</Badge>
      </div>
      <dl className="queue-stats">
        <div>
          <dt>Depth</dt>
          <dd data-testid="queue-depth">{queue.depth}</dd>
        </div>
        <div>
          <dt>Oldest</dt>
          <dd data-testid="queue-age">{formatAge(queue.oldest_age_s)}</dd>
        </div>
        <div>
          <dt>Worker</dt>
          <dd className="wrap-anywhere">{queue.held_by ?? "—"}</dd>
        </div>
      </dl>
      <p className={queue.blocked ? "queue-why blocked" : "queue-why"} data-testid="queue-why">
        {queue.why}
      </p>
      {head ? (
        <div className="queue-head" data-testid="queue-head">
          <h4>Head of the queue</h4>
          <dl className="facts">
            <div>
              <dt>Control id</dt>
              <dd className="mono">{head.control_id ?? "—"}</dd>
            </div>
            <div>
              <dt>Type</dt>
              <dd>{head.message_type ?? "—"}</dd>
            </div>
            <div>
              <dt>Place</dt>
              <dd>{head.seq ?? "—"}</dd>
            </div>
            <div>
              <dt>Status · attempts</dt>
              <dd>
                {head.status} · {head.attempts}
              </dd>
            </div>
            <div>
              <dt>Last ACK</dt>
              <dd>{head.ack_code ?? (head.attempts ? "none" : "—")}</dd>
            </div>
          </dl>
          {head.error ? <p className="health-error small">{head.error}</p> : null}
          {last ? <pre className="json small">{last}</pre> : null}
        </div>
      ) : null}
      <div className="row">
        <button type="button" disabled={!allowed.retry || busy !== null} onClick={() => void run("retry-now")} aria-label={`Retry the head of ${name} now`}>
          Retry now
        </button>
        {allowed.skip && busy === null ? (
          <ConfirmButton
            label={`Skip the head of ${name}`}
            question={`Skip ${head?.control_id ?? "the head"}? It ends as skipped and is never sent to ${name}.`}
            onConfirm={() => run("skip-head")}
            testId="queue-skip"
          >
            Skip head
          </ConfirmButton>
        ) : (
          <button type="button" className="danger" disabled aria-label={`Skip the head of ${name}`}>
            Skip head
          </button>
        )}
        {allowed.resume ? (
          <button type="button" className="primary" disabled={busy !== null} onClick={() => void run("resume")} aria-label={`Resume ${name}`}>
            Resume
          </button>
        ) : (
          <button type="button" disabled={busy !== null} onClick={() => void run("pause")} aria-label={`Pause ${name}`}>
            Pause
          </button>
        )}
      </div>
    </li>
  );
}

/** HL7 queues: each destination's in-order (FIFO) queue, why it waits, and the admin's actions; the
 * last hour's traffic above. Both refresh on their own while the tab is visible. */
export function QueuesPanel() {
  const { data, error, loading, reload } = useGet<Hl7Queue[]>("/hl7/queues");
  usePolling(reload, QUEUE_POLL_MS);
  const [notice, setNotice] = useState("");
  const [actionError, setActionError] = useState<unknown>(null);
  // An action's answer shows at once, until the next poll brings the same queue.
  const [answered, setAnswered] = useState<Hl7Queue | null>(null);
  const [answeredFor, setAnsweredFor] = useState<unknown>(null);
  const queues = sortQueues(data ?? []).map((queue) => (answered && answeredFor === data && answered.integration_id === queue.integration_id ? answered : queue));
  return (
    <div data-testid="admin-queues">
      <TrafficChart />
      <div className="row">
        <h2 className="grow">Destination queues</h2>
        <span className="muted small">Live · every {QUEUE_POLL_MS / 1000} s</span>
        <button type="button" onClick={reload} aria-label="Refresh queues">
          Refresh
        </button>
      </div>
      <p className="muted small">
        FIFO destinations receive message n+1 only after message n is delivered, failed after its retries, or skipped.
      </p>
      <p className="success small" role="status" data-testid="queue-notice">
        {notice}
      </p>
      <ErrorMessage error={actionError ?? error} />
      {loading && !data ? <Spinner label="Loading queues" /> : null}
      {data && !queues.length ? <p className="muted">No FIFO queues yet: a destination gets one with its first in-order message.</p> : null}
      <ul className="queue-list">
        {queues.map((queue) => (
          <QueueCard
            key={queue.integration_id}
            queue={queue}
            onDone={(updated, message, reason) => {
              setActionError(reason);
              setNotice(message);
              if (updated) {
                setAnswered(updated);
                setAnsweredFor(data);
              }
              reload();
            }}
          />
        ))}
      </ul>
    </div>
  );
}
