import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { api } from "../../lib/api";
import { useGet } from "../../lib/useApi";
import {
  channelBody,
  channelErrors,
  checkDraft,
  emptyStep,
  FILTER_FIELDS,
  unplacedErrors,
  type ChannelDraft,
  type FieldErrors,
  type Source,
  type StepDraft,
  type TransformKind,
} from "../../lib/channels";
import type { Hl7Channel, Integration, Page } from "../../lib/protocol";
import { ErrorMessage, Spinner } from "../ui/Feedback";

const PLACED = ["name", "enabled", "sources", "destinations", "ordering", "validation", "on_negative_ack", "transform", ...FILTER_FIELDS.map((f) => `filter.${f.api}`)];

/** A field's error under it, tied to the input by id (aria-describedby). */
function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p className="error field-error" id={id}>
      {message}
    </p>
  );
}

function describedBy(...ids: Array<string | false | undefined>): string | undefined {
  const present = ids.filter(Boolean);
  return present.length ? present.join(" ") : undefined;
}

function Select<T extends string>({ id, label, value, options, onChange, error }: { id: string; label: string; value: T; options: Array<[T, string]>; onChange: (value: T) => void; error?: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value as T)} aria-invalid={error ? true : undefined} aria-describedby={describedBy(error && `${id}-error`)}>
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}

function StepRow({ step, index, count, error, onChange, onMove, onRemove }: { step: StepDraft; index: number; count: number; error: string | undefined; onChange: (step: StepDraft) => void; onMove: (by: -1 | 1) => void; onRemove: () => void }) {
  const n = index + 1;
  const id = `step-${index}`;
  const errorId = error ? `${id}-error` : undefined;
  return (
    <li className="transform-step" data-testid="transform-step">
      <div className="transform-fields">
        <div className="field">
          <label htmlFor={`${id}-kind`}>Step {n} operation</label>
          <select id={`${id}-kind`} value={step.kind} onChange={(event) => onChange({ ...step, kind: event.target.value as TransformKind })}>
            <option value="set">set</option>
            <option value="copy">copy</option>
            <option value="delete">delete</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-path`}>Step {n} path</label>
          <input id={`${id}-path`} className="mono" value={step.path} placeholder="MSH-5, PID-3.1, OBX[*]-5" aria-invalid={error ? true : undefined} aria-describedby={errorId} onChange={(event) => onChange({ ...step, path: event.target.value })} />
        </div>
        {step.kind === "set" ? (
          <div className="field">
            <label htmlFor={`${id}-value`}>Step {n} value</label>
            <input id={`${id}-value`} value={step.value} onChange={(event) => onChange({ ...step, value: event.target.value })} />
          </div>
        ) : null}
        {step.kind === "copy" ? (
          <div className="field">
            <label htmlFor={`${id}-to`}>Step {n} copy to</label>
            <input id={`${id}-to`} className="mono" value={step.to} placeholder="PID-2" aria-invalid={error ? true : undefined} aria-describedby={errorId} onChange={(event) => onChange({ ...step, to: event.target.value })} />
          </div>
        ) : null}
      </div>
      <div className="row transform-actions">
        <button type="button" className="icon-button" onClick={() => onMove(-1)} disabled={index === 0} aria-label={`Move step ${n} up`}>
          ↑
        </button>
        <button type="button" className="icon-button" onClick={() => onMove(1)} disabled={index === count - 1} aria-label={`Move step ${n} down`}>
          ↓
        </button>
        <button type="button" className="icon-button" onClick={onRemove} aria-label={`Remove step ${n}`}>
          ✕
        </button>
      </div>
      <FieldError id={`${id}-error`} message={error} />
    </li>
  );
}

function Group({ legend, error, errorId, children }: { legend: string; error?: string | undefined; errorId: string; children: ReactNode }) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {children}
      <FieldError id={errorId} message={error} />
    </fieldset>
  );
}

/** Create or edit a channel; the API's refusals show next to the fields they concern. */
export function ChannelForm({ channel, initial, onSaved, onCancel }: { channel: Hl7Channel | null; initial: ChannelDraft; onSaved: (channel: Hl7Channel) => void; onCancel: () => void }) {
  const [draft, setDraft] = useState<ChannelDraft>(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  // After a refusal, the keyboard lands on the first field that needs a change.
  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);
  const destinations = useGet<Page<Integration>>("/integrations", { integration_type: "hl7", size: 100 });
  const title = channel ? `Edit ${channel.name}` : "New channel";
  const set = <K extends keyof ChannelDraft>(key: K, value: ChannelDraft[K]) => setDraft((current) => ({ ...current, [key]: value }));
  const setStep = (index: number, step: StepDraft) => set("transform", draft.transform.map((s, i) => (i === index ? step : s)));
  const moveStep = (index: number, by: -1 | 1) => {
    const steps = [...draft.transform];
    const [moved] = steps.splice(index, 1);
    if (moved) steps.splice(index + by, 0, moved);
    set("transform", steps);
  };
  const toggle = <T extends string>(values: T[], value: T, on: boolean): T[] => (on ? [...values.filter((v) => v !== value), value] : values.filter((v) => v !== value));

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const local = checkDraft(draft);
    setErrors(local);
    if (Object.keys(local).length) return;
    setSaving(true);
    try {
      const body = channelBody(draft);
      const saved = channel ? await api.patch<Hl7Channel>(`/hl7/channels/${channel.id}`, body) : await api.post<Hl7Channel>("/hl7/channels", body);
      onSaved(saved);
    } catch (reason) {
      setErrors(channelErrors(reason));
    } finally {
      setSaving(false);
    }
  };

  const general = unplacedErrors(errors, PLACED);
  const hl7 = destinations.data?.items ?? [];
  // A stored destination the admin can no longer see still shows, so saving does not silently drop it.
  const unknown = draft.destinations.filter((id) => !hl7.some((integration) => integration.id === id));
  return (
    <form ref={formRef} className="card channel-form" aria-label={title} onSubmit={(event) => void submit(event)} noValidate>
      <h3>{title}</h3>
      {general.length ? <ErrorMessage error={general.join(" ")} /> : Object.keys(errors).length ? <ErrorMessage error="Check the fields marked below." /> : null}
      <div className="field">
        <label htmlFor="channel-name">Name</label>
        <input id="channel-name" value={draft.name} onChange={(event) => set("name", event.target.value)} aria-invalid={errors.name ? true : undefined} aria-describedby={describedBy(errors.name && "channel-name-error")} />
        <FieldError id="channel-name-error" message={errors.name} />
      </div>
      <div className="field field-checkbox">
        <input id="channel-enabled" type="checkbox" checked={draft.enabled} onChange={(event) => set("enabled", event.target.checked)} />
        <label htmlFor="channel-enabled">Enabled</label>
      </div>
      <Group legend="Sources" error={errors.sources} errorId="channel-sources-error">
        {(
          [
            ["api", "API (POST /messages without a destination)"],
            ["mllp", "MLLP listener (inbound)"],
          ] as Array<[Source, string]>
        ).map(([source, text]) => (
          <div className="field field-checkbox" key={source}>
            <input id={`channel-source-${source}`} type="checkbox" checked={draft.sources.includes(source)} aria-invalid={errors.sources ? true : undefined} aria-describedby={describedBy(errors.sources && "channel-sources-error")} onChange={(event) => set("sources", toggle(draft.sources, source, event.target.checked))} />
            <label htmlFor={`channel-source-${source}`}>{text}</label>
          </div>
        ))}
      </Group>
      <Group legend="Filter (MSH fields; empty = any)" error={errors.filter} errorId="channel-filter-error">
        <div className="form-grid">
          {FILTER_FIELDS.map((field) => {
            const id = `channel-filter-${field.api}`;
            const error = errors[`filter.${field.api}`];
            return (
              <div className="field" key={field.api}>
                <label htmlFor={id}>{field.label}</label>
                <input id={id} className="mono" value={draft[field.draft]} onChange={(event) => set(field.draft, event.target.value)} aria-invalid={error ? true : undefined} aria-describedby={describedBy(`${id}-hint`, error && `${id}-error`)} />
                <p className="muted small" id={`${id}-hint`}>
                  {field.hint}; separate with commas
                </p>
                <FieldError id={`${id}-error`} message={error} />
              </div>
            );
          })}
        </div>
      </Group>
      <Group legend="Transform (applied in order before sending)" error={errors.transform} errorId="channel-transform-error">
        {draft.transform.length ? (
          <ol className="transform-list">
            {draft.transform.map((step, index) => (
              <StepRow
                key={index}
                step={step}
                index={index}
                count={draft.transform.length}
                error={errors[`transform.${index}`]}
                onChange={(changed) => setStep(index, changed)}
                onMove={(by) => moveStep(index, by)}
                onRemove={() => set("transform", draft.transform.filter((_, i) => i !== index))}
              />
            ))}
          </ol>
        ) : (
          <p className="muted small">No steps: messages go out as they came in.</p>
        )}
        <button type="button" onClick={() => set("transform", [...draft.transform, emptyStep()])}>
          + Add step
        </button>
      </Group>
      <Group legend="Destinations (HL7 integrations)" error={errors.destinations} errorId="channel-destinations-error">
        {destinations.loading && !destinations.data ? <Spinner label="Loading destinations" /> : null}
        <ErrorMessage error={destinations.error} />
        {destinations.data && !hl7.length ? <p className="muted small">No HL7 integrations yet: add one under Integrations.</p> : null}
        {hl7.map((integration) => (
          <div className="field field-checkbox" key={integration.id}>
            <input
              id={`channel-destination-${integration.id}`}
              type="checkbox"
              checked={draft.destinations.includes(integration.id)}
              aria-invalid={errors.destinations ? true : undefined}
              aria-describedby={describedBy(errors.destinations && "channel-destinations-error")}
              onChange={(event) => set("destinations", toggle(draft.destinations, integration.id, event.target.checked))}
            />
            <label htmlFor={`channel-destination-${integration.id}`}>{integration.name}</label>
          </div>
        ))}
        {unknown.map((id) => (
          <p className="muted small" key={id}>
            Kept: <span className="mono">{channel?.destination_details.find((d) => d.id === id)?.name ?? id}</span>
          </p>
        ))}
      </Group>
      <fieldset>
        <legend>Delivery</legend>
        <div className="form-grid">
          <Select id="channel-ordering" label="Ordering" value={draft.ordering} onChange={(value) => set("ordering", value)} error={errors.ordering} options={[["fifo", "FIFO (in order)"], ["parallel", "Parallel"]]} />
          <Select id="channel-validation" label="Validation" value={draft.validation} onChange={(value) => set("validation", value)} error={errors.validation} options={[["off", "Off"], ["warn", "Warn (keep problems)"], ["reject", "Reject (400 / AE)"]]} />
          <Select id="channel-nak" label="On negative ACK (AE)" value={draft.onNegativeAck} onChange={(value) => set("onNegativeAck", value)} error={errors.on_negative_ack} options={[["retry", "Retry"], ["fail", "Fail (final)"]]} />
        </div>
        <p className="muted small">AR is always final.</p>
      </fieldset>
      <div className="row">
        <button type="submit" className="primary" disabled={saving}>
          {channel ? "Save channel" : "Create channel"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        {saving ? <Spinner label="Saving" /> : null}
      </div>
    </form>
  );
}
