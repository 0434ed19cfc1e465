#!/usr/bin/env bash
# Two relief-api replicas behind Debian's nginx, on one local PostgreSQL
# (issue #15), and what they must show together:
#   1. the reply rate limit holds across both (5 a minute for one client,
#      its posts spread over both by nginx);
#   2. a reply approved through one is on the other's reader page at once;
#   3. kill -9 of one replica during 200 concurrent posts loses no
#      acknowledged reply (clients retry with their Idempotency-Key, as
#      they should after a 502), and the other keeps serving.
#
#   BIN=target/release/relief-api bash bench/replicas.sh
#   (DATABASE=postgres://USER:PASSWORD@127.0.0.1:5432/postgres names the
#   server; a database of its own is made on it and dropped at the end.)
#
# Needs nginx, psql (Debian's postgresql package), curl and python3.
set -euo pipefail

BIN=${BIN:-target/release/relief-api}
DATABASE=${DATABASE:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
BIN=$(realpath "$BIN")
WORK=$(mktemp -d /tmp/relief-replicas-XXXXXX)
NAME="relief_replicas_$$"
DB_URL="${DATABASE%/*}/$NAME"
LB=18600
PORTS=(18601 18602)
PIDS=()
TOKEN="replicas-bench-token"
SLUG=deep-tissue-massage-for-back-pain
failed=0

cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  psql -q "$DATABASE" -c "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >/dev/null 2>&1 || true
  # The replicas' and nginx's logs are kept when a check failed.
  if [ "$status" = 0 ]; then rm -rf "$WORK"; else echo "replicas: logs kept in $WORK" >&2; fi
}
trap cleanup EXIT

check() { # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then echo "  ok: $what"; else echo "  FAILED: $what"; failed=1; fi
}

psql -q "$DATABASE" -c "CREATE DATABASE $NAME" >/dev/null
printf %s "$TOKEN" | "$BIN" hash-token > "$WORK/moderators.txt"

start_replica() { # start_replica INDEX
  local port=${PORTS[$1]}
  RUST_LOG=info NO_COLOR=1 "$BIN" --bind "127.0.0.1:$port" --workers 2 \
    --database-url "$DB_URL?sslmode=require" --reply-rate-per-minute 5 \
    --moderator-tokens-file "$WORK/moderators.txt" --trusted-proxies 127.0.0.1 \
    2> "$WORK/replica-$1.log" &
  PIDS[$1]=$!
  disown "${PIDS[$1]}"   # its kill -9 is the test, not news
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.05; done
}
start_replica 0
start_replica 1

cat > "$WORK/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/body;
  proxy_temp_path $WORK/proxy;
  upstream replicas {
    server 127.0.0.1:${PORTS[0]} max_fails=1 fail_timeout=5s;
    server 127.0.0.1:${PORTS[1]} max_fails=1 fail_timeout=5s;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$LB;
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
EOF
nginx -p "$WORK" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf"
until curl -fs "http://127.0.0.1:$LB/healthz" >/dev/null; do sleep 0.05; done
echo "# two replicas (ports ${PORTS[*]}) behind nginx (port $LB), on PostgreSQL database $NAME over TLS"

post() { # post BASE CLIENT BODY [KEY] -> prints "status id"
  local key_header=()
  [ -n "${4:-}" ] && key_header=(-H "Idempotency-Key: $4")
  curl -s -o "$WORK/answer.json" -w '%{http_code}' -X POST "$1/v1/articles/$SLUG/replies" \
    -H 'content-type: application/json' -H "X-Forwarded-For: $2" "${key_header[@]}" \
    -d "{\"author_name\":\"Bench\",\"body\":\"$3\"}"
  printf ' %s\n' "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("id",""))' "$WORK/answer.json" 2>/dev/null || true)"
}

echo
echo "## 1. One rate limit across both replicas (5 replies a minute per client)"
statuses=()
for n in 1 2 3 4 5 6 7; do
  read -r status _ < <(post "http://127.0.0.1:$LB" 198.51.100.7 "rate limit post $n")
  statuses+=("$status")
done
served=$(for i in 0 1; do grep -c 'route=/v1/articles/{slug}/replies' "$WORK/replica-$i.log" || true; done | paste -sd/)
echo "  7 posts by one client through nginx: ${statuses[*]} (posts reached the replicas: $served)"
check "the first five are accepted, the sixth and seventh refused" \
  test "${statuses[*]}" = "202 202 202 202 202 429 429"
check "both replicas took posts" bash -c "[[ '$served' =~ ^[1-9][0-9]*/[1-9][0-9]*$ ]]"

echo
echo "## 2. A reply approved through one replica is on the other's reader page at once"
read -r status id < <(post "http://127.0.0.1:${PORTS[0]}" 198.51.100.8 "Approved on replica one, shown on replica two")
page="http://127.0.0.1:${PORTS[1]}/articles/$SLUG"
curl -fs "$page" | grep -q "shown on replica two" && echo "  (shown before approval?)" || true
curl -fs -o /dev/null "$page"   # replica two renders and keeps its page
curl -fs -o /dev/null -X PATCH "http://127.0.0.1:${PORTS[0]}/v1/moderation/replies/$id" \
  -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"status":"approved"}'
approved_at=$(date +%s%N)
seen_ms=""
for _ in $(seq 1 100); do
  if curl -fs "$page" | grep -q "shown on replica two"; then
    seen_ms=$(( ($(date +%s%N) - approved_at) / 1000000 )); break
  fi
  sleep 0.01
done
echo "  reply $id approved through replica one; on replica two's page after ${seen_ms:-more than 1000} ms"
check "replica two's page shows it within a second" test -n "$seen_ms"

echo
echo "## 3. kill -9 of replica one during 200 concurrent posts"
python3 - "$LB" "$SLUG" "${PIDS[0]}" "$WORK/acked.txt" <<'EOF'
import json, os, signal, sys, threading, time, urllib.error, urllib.request
port, slug, victim, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
acked, outcomes, lock = {}, {}, threading.Lock()

def post(n):
    body = json.dumps({"author_name": "Bench", "body": f"kill test reply {n}"}).encode()
    # A client retries a failed post with the same key, as the API asks.
    for attempt in range(1, 21):
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/articles/{slug}/replies", data=body, method="POST",
            headers={"content-type": "application/json", "idempotency-key": f"kill-{n}",
                     "x-forwarded-for": f"10.9.{n // 250}.{n % 250 + 1}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as answer:
                with lock:
                    acked[n] = json.load(answer)["id"]
                    outcomes.setdefault(n, []).append(answer.status)
                return
        except urllib.error.HTTPError as error:
            with lock:
                outcomes.setdefault(n, []).append(error.code)
        except Exception as error:
            with lock:
                outcomes.setdefault(n, []).append(type(error).__name__)
        time.sleep(0.1 * attempt)

threads = [threading.Thread(target=post, args=(n,)) for n in range(200)]
for t in threads:
    t.start()
time.sleep(0.05)
os.kill(victim, signal.SIGKILL)
killed = time.time()
for t in threads:
    t.join()
retried = sum(1 for o in outcomes.values() if len(o) > 1)
failures = sorted({str(s) for o in outcomes.values() for s in o if s != 202})
print(f"  replica one killed (SIGKILL) 50 ms into the burst; {len(acked)} of 200 posts acknowledged "
      f"(202), {retried} after a retry with their Idempotency-Key (other answers seen on the way: {', '.join(failures) or 'none'})")
with open(out, "w") as f:
    for n, reply in sorted(acked.items()):
        f.write(f"{n} {reply}\n")
EOF
acked=$(wc -l < "$WORK/acked.txt")
stored=$(psql -tA "$DB_URL" -c "SELECT count(*) FROM replies WHERE body LIKE 'kill test reply %'")
distinct=$(psql -tA "$DB_URL" -c "SELECT count(DISTINCT body) FROM replies WHERE body LIKE 'kill test reply %'")
ids=$(cut -d' ' -f2 "$WORK/acked.txt" | paste -sd,)
found=$(psql -tA "$DB_URL" -c "SELECT count(*) FROM replies WHERE id IN (${ids:-0})")
echo "  in the database: $stored replies of the burst ($distinct distinct), $found of the $acked acknowledged ids"
check "every post was acknowledged in the end" test "$acked" -eq 200
check "every acknowledged reply is stored" test "$found" -eq "$acked"
check "no post was stored twice" test "$stored" -eq "$distinct"
ok=0
for _ in $(seq 1 20); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LB/v1/articles/$SLUG")
  [ "$code" = 200 ] && ok=$((ok + 1))
done
echo "  after the kill, 20 content requests through nginx: $ok answered 200"
check "replica two keeps serving" test "$ok" -eq 20

echo
if [ "$failed" = 0 ]; then echo "replicas: all checks passed"; else echo "replicas: some checks FAILED"; fi
exit "$failed"
