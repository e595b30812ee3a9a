"""Password hashing, JWTs and encryption of credentials at rest."""
