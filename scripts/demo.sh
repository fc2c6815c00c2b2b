#!/bin/sh
# Quick start: installs what is needed and runs a real load into a real InfluxDB.
# With INFLUX_URL set, loads that server. Without it, starts a local influxd (Debian's 1.x package,
# installed with apt when missing) bound to 127.0.0.1:${INFLUXD_PORT:-8086}, data under .data/influxd,
# and leaves it running so the data can be queried. Extra arguments go to `ohlcv-loadgen run`.
set -eu
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build

ping() { node -e "fetch(process.argv[1] + '/ping').then(r => process.exit(r.status === 204 ? 0 : 1), () => process.exit(1))" "$1"; }

if [ -z "${INFLUX_URL:-}" ]; then
  sh scripts/install-servers.sh influxdb
  port="${INFLUXD_PORT:-8086}"
  dir="$(pwd)/.data/influxd"
  export INFLUX_URL="http://127.0.0.1:$port"
  if ping "$INFLUX_URL"; then
    echo "using the InfluxDB already answering on $INFLUX_URL"
  else
    node scripts/local-influxd.mjs "$dir" "$port"
  fi
fi

db="${INFLUX_DB:-ohlcv}"
node bin/ohlcv-loadgen.js run --trades "${TRADES:-1000000}" "$@"

if [ "${INFLUX_API:-v1}" = v1 ]; then
  node -e '
    const [url, db] = process.argv.slice(1)
    const q = new URLSearchParams({ db, q: "SELECT count(trade_id) FROM trades" })
    fetch(`${url}/query?${q}`).then(r => r.json()).then(j => {
      const n = j.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0
      console.log(`InfluxDB now holds ${n.toLocaleString("en-US")} points in ${db}.trades (all loads so far). Query it yourself:`)
    })' "$INFLUX_URL" "$db"
  echo "  curl -G '$INFLUX_URL/query' --data-urlencode 'db=$db' --data-urlencode 'q=SELECT count(trade_id) FROM trades GROUP BY symbol'"
  [ -f .data/influxd/influxd.pid ] && echo "Stop the local influxd with: kill \$(cat .data/influxd/influxd.pid)"
fi
exit 0
