"""EMR patient data over the REST API: per-integration reads and the cross-EMR aggregate."""
