"""EMR connector over FHIR R4 (Epic, Cerner, any FHIR server): client, aggregation, tools, sandbox."""
