import type { IntegrationHealth } from "../../lib/protocol";
import { timeAgo } from "../../lib/time";

/** Live health from real calls: last success, last failure with its error, the last hour's error rate. */
export function HealthView({ health, compact = false }: { health: IntegrationHealth | undefined; compact?: boolean }) {
  if (!health || (!health.last_success_at && !health.last_failure_at)) {
    return <p className="muted small health">No calls yet: the status shows once the assistant or a test uses it.</p>;
  }
  const rate = health.error_rate_1h;
  return (
    <dl className={compact ? "health health-compact small" : "health small"} data-testid="integration-health">
      <div>
        <dt>Last success</dt>
        <dd>
          <time dateTime={health.last_success_at ?? undefined} title={health.last_success_at ?? undefined}>
            {timeAgo(health.last_success_at)}
          </time>
        </dd>
      </div>
      <div>
        <dt>Last failure</dt>
        <dd>
          <time dateTime={health.last_failure_at ?? undefined} title={health.last_failure_at ?? undefined}>
            {timeAgo(health.last_failure_at)}
          </time>
          {health.last_failure_at && health.last_error ? (
            <span className="health-error" data-testid="health-error">
              {" "}
              — {health.last_error}
            </span>
          ) : null}
        </dd>
      </div>
      <div>
        <dt>Last hour</dt>
        <dd>
          {health.calls_1h} call{health.calls_1h === 1 ? "" : "s"}
          {rate !== null && rate !== undefined ? `, ${Math.round(rate * 100)} % failed` : ""}
        </dd>
      </div>
    </dl>
  );
}
