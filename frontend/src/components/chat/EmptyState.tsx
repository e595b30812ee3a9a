import { Link } from "wouter";
import { useGet } from "../../lib/useApi";
import type { Integration, Page } from "../../lib/protocol";

interface Example {
  label: string;
  /** What goes into the message box; a prompt ending in a space waits for the user to finish it. */
  prompt: string;
}

const EXAMPLES: Record<string, Example[]> = {
  jira: [{ label: "What are my open Jira tickets?", prompt: "What are my open Jira tickets?" }],
  emr: [{ label: "Show a patient's vitals…", prompt: "Show the latest vitals for " }],
  hl7: [
    {
      label: "Explain an HL7 message",
      prompt: "Explain this HL7 message:\nMSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|MSG00001|P|2.5.1\nPID|1||12345||DOE^JANE",
    },
  ],
};

/** Example prompts for the integration types the user actually has. */
export function EmptyState({ onPick }: { onPick: (prompt: string) => void }) {
  const { data, loading } = useGet<Page<Integration>>("/integrations", { size: 100 });
  const types = [...new Set((data?.items ?? []).map((integration) => integration.integration_type))];
  const examples = types.flatMap((type) => EXAMPLES[type] ?? []);
  return (
    <div className="empty-state" data-testid="empty-state">
      <h2>What can I help with?</h2>
      {loading ? null : examples.length ? (
        <ul className="examples" aria-label="Example prompts">
          {examples.map((example) => (
            <li key={example.label}>
              <button type="button" className="example" onClick={() => onPick(example.prompt)}>
                {example.label}
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">
          Add an integration (Jira, an EMR over FHIR, or HL7 over MLLP) under <Link href="/integrations">Integrations</Link> to get started.
        </p>
      )}
    </div>
  );
}
