"""Registration, login, token refresh with rotation and reuse detection, logout."""
