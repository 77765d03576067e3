#!/usr/bin/env bash
# Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d):
# one database per service, each owned by a login role of the same name, so a service
# can reach its own tables only (intake's personal data stays in intake's database).
# Passwords come from <SERVICE>_DB_PASSWORD, the same variables docker-compose.yml puts
# in each service's DATABASE_URL.
# A subshell, so the shell options hold even when the entrypoint sources this file.
(
  set -euo pipefail
  for service in intake capacity matching reporting; do
    password_var="${service^^}_DB_PASSWORD"
    password="${!password_var:?$password_var is not set}"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
         -v service="$service" -v password="$password" <<'SQL'
CREATE ROLE :"service" LOGIN PASSWORD :'password';
CREATE DATABASE :"service" OWNER :"service";
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
SQL
    echo "created role and database ${service}"
  done
)
