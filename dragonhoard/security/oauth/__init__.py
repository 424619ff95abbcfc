"""The OAuth 2.1 authorization server: oauthlib, adapted (DESIGN section 15)."""
