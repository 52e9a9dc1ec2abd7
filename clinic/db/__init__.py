"""The PostgreSQL backend with row-level security for tenants (`clinic.db.base`)."""
