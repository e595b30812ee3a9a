"""The signed-in person's own account: first-run setup, password change, admin-issued reset links."""
