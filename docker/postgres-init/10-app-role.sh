#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory.
# The app (web, worker, beat) connects as `clinic_app`: not a superuser and not
# the tables' owner, so PostgreSQL's row-level security applies to it
# (docs/architecture.md, Tenancy). Migrations run as $POSTGRES_USER, the owner,
# which creates every table; the default privileges below grant the app its
# rows' reads and writes on each of them, and no DDL.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE clinic_app LOGIN PASSWORD '${APP_DB_PASSWORD}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
GRANT CONNECT ON DATABASE "${POSTGRES_DB}" TO clinic_app;
GRANT USAGE ON SCHEMA public TO clinic_app;
ALTER DEFAULT PRIVILEGES FOR ROLE "${POSTGRES_USER}" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO clinic_app;
ALTER DEFAULT PRIVILEGES FOR ROLE "${POSTGRES_USER}" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO clinic_app;
SQL
