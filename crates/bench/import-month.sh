#!/bin/sh
# Times importing a month of fees: 5,000 payments in three CSV files
# (2,000 + 2,000 + 1,000, since one file holds at most 2,000 rows), with
# `feeledger import --yes` into a fresh ledger, once with --data and once
# over --url against `feeledger serve` on loopback. Each run starts from a
# new ledger; making it, and starting the server, are not timed.
#
#   crates/bench/import-month.sh [FEELEDGER] [RUNS]
#
# FEELEDGER defaults to ./target/release/feeledger, RUNS to 5. Prints each
# run's wall time in milliseconds and the median of each mode. The files
# are generated here, deterministically (awk), so every run imports the
# same bytes; docs/performance.md ("Importing a month of fees") has the
# figures. Needs curl (to wait for the server).
set -eu

BIN=$(realpath "${1:-./target/release/feeledger}")
RUNS=${2:-5}
PORT=${PORT:-18734}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/feeledger-import-bench.XXXXXX")
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT INT TERM
SERVER=

ms() { echo $(($(date +%s%N) / 1000000)); }

# The rows [START, START + N) of the month, with a header, CRLF line ends
# as Excel writes them. Property fees of 90.00 to 3,089.99 yuan, and every
# seventh row a parking fee of 300 yuan; units 1-0101 to 20-3009, all
# distinct.
month_file() {
  awk -v start="$1" -v n="$2" 'BEGIN {
    printf "房号,金额,类别,缴费日期,所属月份,备注\r\n";
    for (i = start; i < start + n; i++) {
      unit = sprintf("%d-%02d%02d", 1 + i % 20, 1 + int(i / 20) % 30, 1 + int(i / 600) % 9);
      date = sprintf("2026-11-%02d", 1 + i % 30);
      if (i % 7 == 6) {
        printf "%s,300,停车费,%s,2026-11,车位月租\r\n", unit, date;
      } else {
        fen = 9000 + (i * 7919) % 300000;
        printf "%s,%d.%02d,物业费,%s,2026-11,十一月物业费\r\n", unit, int(fen / 100), fen % 100, date;
      }
    }
  }' > "$3"
}

month_file 0 2000 "$WORK/2026-11-a.csv"
month_file 2000 2000 "$WORK/2026-11-b.csv"
month_file 4000 1000 "$WORK/2026-11-c.csv"

cd "$WORK"
for name in wuye-li weiyuan-wang weiyuan-zhao weiyuan-chen; do
  "$BIN" keygen --name "$name" --out "$name.key" > "$name.out"
done
key() { sed -n 's/^public_key: *//p' "$1.out"; }
cat > genesis.toml <<EOF
origin = "example.org/bench"
name = "导入基准 Import bench"
date = "2026-01-01"
signers = ["wuye-li.key", "weiyuan-wang.key", "weiyuan-zhao.key"]

[roles.company]
threshold = 1
keys = [{ name = "wuye-li", public_key = "$(key wuye-li)" }]

[roles.committee]
threshold = 2
keys = [{ name = "weiyuan-wang", public_key = "$(key weiyuan-wang)" }, { name = "weiyuan-zhao", public_key = "$(key weiyuan-zhao)" }, { name = "weiyuan-chen", public_key = "$(key weiyuan-chen)" }]
EOF

fresh() {
  rm -rf data
  "$BIN" init --data data --genesis genesis.toml > /dev/null
}

import_all() {
  for f in 2026-11-a.csv 2026-11-b.csv 2026-11-c.csv; do
    "$BIN" import "$@" --key wuye-li.key --csv "$f" --yes > import.log
  done
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for mode in data url; do
  : > "times-$mode"
  run=1
  while [ "$run" -le "$RUNS" ]; do
    fresh
    if [ "$mode" = data ]; then
      start=$(ms)
      import_all --data data
      end=$(ms)
    else
      "$BIN" serve --data data --listen "127.0.0.1:$PORT" > serve.log 2>&1 &
      SERVER=$!
      until curl -sf "http://127.0.0.1:$PORT/api/v1/ledger" > /dev/null; do sleep 0.1; done
      start=$(ms)
      import_all --url "http://127.0.0.1:$PORT"
      end=$(ms)
      kill "$SERVER"
      wait "$SERVER" 2> /dev/null || true
      SERVER=
    fi
    # The last file's rows are entries 4001 to 5000 (entry 0 is the genesis).
    grep -q "entries 4001 to 5000 in one commit" import.log || { cat import.log; exit 1; }
    echo "$mode run $run: $((end - start)) ms"
    echo $((end - start)) >> "times-$mode"
    run=$((run + 1))
  done
  echo "$mode median: $(median < "times-$mode") ms for 5,000 rows in 3 files"
done
