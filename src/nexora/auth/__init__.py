"""Tenants, users, roles, sessions (refresh tokens), API keys and access-token signing."""
