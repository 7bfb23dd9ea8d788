#!/bin/sh
# Create and migrate Temporal's main and visibility schemas on PostgreSQL with Temporal's own admin tools
# (idempotent: `create` tolerates an existing database, `update-schema` applies only missing versions).
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"
export SQL_PASSWORD="$POSTGRES_PWD"
SCHEMA=/etc/temporal/schema/postgresql/v12
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" "$@"; }

for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  echo "temporal-schema: $db"
  sql --db "$db" create || echo "temporal-schema: $db exists"
  sql --db "$db" setup-schema -v 0.0 || echo "temporal-schema: $db already set up"
  sql --db "$db" update-schema -d "$SCHEMA/$dir/versioned"
done
echo "temporal-schema: done"
