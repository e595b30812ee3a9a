"""Admin-only endpoints: user management and the operational overview."""
