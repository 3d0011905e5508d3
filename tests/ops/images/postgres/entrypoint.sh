#!/bin/sh
# An empty data folder gets a cluster, the user and the database of POSTGRES_USER, POSTGRES_PASSWORD
# and POSTGRES_DB; then the server answers on every address with password authentication.
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  secret=$(mktemp)
  printf '%s' "$POSTGRES_PASSWORD" > "$secret"
  initdb -D "$PGDATA" -U "$user" --pwfile="$secret" -E UTF8 --locale=C.UTF-8 \
         --auth-local=trust --auth-host=scram-sha-256
  rm -f "$secret"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  # Made behind a private socket and no TCP port, so that no health check sees a half-made server.
  socket=$(mktemp -d)
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -k $socket" start
  if [ "$database" != postgres ]; then
    createdb -h "$socket" -U "$user" "$database"
  fi
  pg_ctl -D "$PGDATA" -w -m fast stop
  rmdir "$socket"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
