import { Link } from "wouter";
import { useGet } from "../../lib/useApi";
import type { Integration, Page } from "../../lib/protocol";

const EXAMPLES: Record<string, string> = {
  jira: "What are my open Jira tickets?",
  emr: "Show vitals for <a patient>",
  hl7: "Explain this HL7 message: MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|MSG00001|P|2.5.1",
};

/** Example prompts for the integration types the user actually has. */
export function EmptyState({ onPick }: { onPick: (prompt: string) => void }) {
  const { data, loading } = useGet<Page<Integration>>("/integrations", { size: 100 });
  const types = [...new Set((data?.items ?? []).map((integration) => integration.integration_type))];
  const prompts = types.flatMap((type) => (EXAMPLES[type] ? [EXAMPLES[type]] : []));
  return (
    <div className="empty-state" data-testid="empty-state">
      <h2>What can I help with?</h2>
      {loading ? null : prompts.length ? (
        <ul className="examples" aria-label="Example prompts">
          {prompts.map((prompt) => (
            <li key={prompt}>
              <button type="button" className="example" onClick={() => onPick(prompt)}>
                {prompt}
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
