import { useState } from "react";
import { api } from "../../lib/api";
import { useGet } from "../../lib/useApi";
import { draftFromChannel, emptyDraft, filterSummary, stepSummary } from "../../lib/channels";
import type { Hl7Channel } from "../../lib/protocol";
import { Badge, ErrorMessage, Spinner } from "../ui/Feedback";
import { ConfirmButton } from "../ui/ConfirmButton";
import { ChannelForm } from "./ChannelForm";
import "./hl7admin.css";

function ChannelCard({ channel, onEdit, onChanged, onError }: { channel: Hl7Channel; onEdit: () => void; onChanged: () => void; onError: (error: unknown) => void }) {
  const [busy, setBusy] = useState(false);
  const act = async (run: () => Promise<unknown>) => {
    setBusy(true);
    onError(null);
    try {
      await run();
      onChanged();
    } catch (reason) {
      onError(reason);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="card channel" aria-label={channel.name} data-testid="channel-row" data-enabled={channel.enabled}>
      <div className="row channel-head">
        <h3 className="grow">{channel.name}</h3>
        <Badge tone={channel.enabled ? "ok" : "neutral"}>{channel.enabled ? "enabled" : "disabled"}</Badge>
        <Badge tone="neutral">{channel.ordering}</Badge>
      </div>
      <dl className="facts">
        <div>
          <dt>Sources</dt>
          <dd>{channel.sources.join(", ")}</dd>
        </div>
        <div>
          <dt>Filter</dt>
          <dd className="mono">{filterSummary(channel)}</dd>
        </div>
        <div>
          <dt>Destinations</dt>
          <dd>{channel.destinations.join(", ") || "—"}</dd>
        </div>
        <div>
          <dt>Transform</dt>
          <dd className="mono">{channel.transform.length ? channel.transform.map(stepSummary).join("; ") : "none"}</dd>
        </div>
        <div>
          <dt>Validation · on AE</dt>
          <dd>
            {channel.validation} · {channel.on_negative_ack}
          </dd>
        </div>
      </dl>
      <div className="row">
        <button type="button" disabled={busy} onClick={() => void act(() => api.patch(`/hl7/channels/${channel.id}`, { enabled: !channel.enabled }))} aria-label={`${channel.enabled ? "Disable" : "Enable"} ${channel.name}`}>
          {channel.enabled ? "Disable" : "Enable"}
        </button>
        <button type="button" onClick={onEdit} aria-label={`Edit ${channel.name}`}>
          Edit
        </button>
        <ConfirmButton label={`Delete ${channel.name}`} question={`Delete ${channel.name}?`} onConfirm={() => act(() => api.delete(`/hl7/channels/${channel.id}`))}>
          Delete
        </ConfirmButton>
      </div>
    </li>
  );
}

/** HL7 channels: which traffic goes where, filtered and transformed; create, edit, enable, delete. */
export function ChannelsPanel() {
  const { data, error, loading, reload } = useGet<Hl7Channel[]>("/hl7/channels");
  // null: no form; "new"; or the id of the channel being edited.
  const [editing, setEditing] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const channels = data ?? [];
  const current = editing && editing !== "new" ? channels.find((channel) => channel.id === editing) ?? null : null;
  const close = (message: string | null) => {
    setEditing(null);
    setSaved(message);
    reload();
  };
  return (
    <div data-testid="admin-channels">
      <p className="muted small">
        A message sent without a destination (API) or arriving on the MLLP listener goes through every enabled channel whose source and filter match.
      </p>
      <div className="row">
        <button type="button" className="primary" onClick={() => { setSaved(null); setEditing("new"); }} disabled={editing === "new"}>
          + New channel
        </button>
        <button type="button" onClick={reload} aria-label="Refresh channels">
          Refresh
        </button>
      </div>
      {saved ? (
        <p className="success small" role="status">
          {saved}
        </p>
      ) : null}
      <ErrorMessage error={error ?? actionError} />
      {editing === "new" || current ? (
        <ChannelForm
          key={editing}
          channel={current}
          initial={current ? draftFromChannel(current) : emptyDraft()}
          onSaved={(channel) => close(`Saved ${channel.name}.`)}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {loading && !data ? <Spinner label="Loading channels" /> : null}
      {data && !channels.length ? <p className="muted">No channels yet. Messages sent without a destination are kept as “filtered”.</p> : null}
      <ul className="channel-list">
        {channels.map((channel) => (
          <ChannelCard
            key={channel.id}
            channel={channel}
            onEdit={() => {
              setSaved(null);
              setEditing(channel.id);
            }}
            onChanged={reload}
            onError={setActionError}
          />
        ))}
      </ul>
    </div>
  );
}
