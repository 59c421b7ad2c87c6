"""The customer master-data hub: settings, database, domain services, ASGI app and CLI."""
