"""The audit trail: every security- or patient-relevant action leaves a row."""
