"""Persistence: ORM models, the engine and sessions, the embedded server, migrations."""
