"""GraphQL types: converted from domain values at the edge, never from ORM rows."""
