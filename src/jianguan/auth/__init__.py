"""Users, roles, data scopes, sessions, API tokens, OIDC sign-in."""
