"""A/B of two relief-api binaries (OLD=path NEW=path), side by side in one run,
to show that a change made no route slower. Both servers on CPU 0 (one loaded
at a time), wrk on CPU 1; alternating rounds, order flipped each round;
requests/s from wrk, server CPU time per request from /proc/PID/stat.

    OLD=/tmp/relief-old NEW=target/release/relief-api python3 bench/ab.py
    (ROUNDS=5 DUR=3 ONLY=regex-of-route-names; ARGS="--response-cache-bytes 0"
    passes flags to both servers, e.g. to measure what the response cache
    cannot answer; LOG=info turns access lines on, to /dev/null: RUST_LOG
    is `warn` otherwise)"""
import os, re, subprocess, sys, time, statistics, urllib.request
SLUG = "deep-tissue-massage-for-back-pain"
ROUNDS = int(os.environ.get("ROUNDS", "5"))
DUR = os.environ.get("DUR", "3")
TICK = os.sysconf("SC_CLK_TCK")

from common import scratch
SCRATCH = scratch("relief-ab-")

def start(binary, port, db):
    p = subprocess.Popen(["taskset", "-c", "0", binary, "--bind", f"127.0.0.1:{port}", "--workers", "1",
                          "--database-url", f"sqlite://{SCRATCH}/{db}", "--reply-rate-per-minute", "0",
                          *os.environ.get("ARGS", "").split()],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": os.environ.get("LOG", "warn")})
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz"); break
        except Exception: time.sleep(0.1)
    return p

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK

def wrk(port, path, headers, dur):
    cmd = ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{dur}s", "--latency"]
    for h in headers: cmd += ["-H", h]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, total

servers = {"old": start(os.environ["OLD"], 18601, "old.db"), "new": start(os.environ["NEW"], 18602, "new.db")}
ports = {"old": 18601, "new": 18602}
etag = urllib.request.urlopen(f"http://127.0.0.1:18602/v1/articles/{SLUG}").headers["etag"]
routes = [
    ("GET article", f"/v1/articles/{SLUG}", []),
    ("GET article, br", f"/v1/articles/{SLUG}", ["Accept-Encoding: br"]),
    ("GET article, 304", f"/v1/articles/{SLUG}", [f"If-None-Match: {etag}"]),
    ("GET benefit", f"/v1/articles/{SLUG}/benefits/improves-posture", []),
    ("GET /v1/articles", "/v1/articles", []),
    ("GET replies (SQLite file)", f"/v1/articles/{SLUG}/replies", []),
    ("GET reader page", f"/articles/{SLUG}", []),
    ("GET search", "/v1/search?q=muscle+tension", []),
]
print(f"# flags: {os.environ.get('ARGS', '(defaults)')}; RUST_LOG={os.environ.get('LOG', 'warn')}; wrk -t1 -c64 -d{DUR}s after 1 s warm-up, {ROUNDS} rounds alternating, order flipped each round; servers 1 worker on CPU 0, wrk on CPU 1")
print("| route | old req/s | new req/s | new/old req/s | old CPU µs/req | new CPU µs/req | new/old CPU |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
ONLY = os.environ.get("ONLY")
for name, path, headers in routes:
    if ONLY and not re.search(ONLY, name): continue
    res = {"old": [], "new": []}
    for r in range(ROUNDS):
        order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
        for who in order:
            wrk(ports[who], path, headers, 1)
            c0 = cpu(servers[who].pid)
            rps, total = wrk(ports[who], path, headers, DUR)
            c1 = cpu(servers[who].pid)
            res[who].append((rps, (c1 - c0) / total * 1e6))
    ratios = [n[0] / o[0] for o, n in zip(res["old"], res["new"])]
    cratios = [n[1] / o[1] for o, n in zip(res["old"], res["new"])]
    med = lambda xs: statistics.median(xs)
    print(f"| {name} | {med([x[0] for x in res['old']]):,.0f} | {med([x[0] for x in res['new']]):,.0f} | {med(ratios):.2f}x "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}) | {med([x[1] for x in res['old']]):.1f} | {med([x[1] for x in res['new']]):.1f} | {med(cratios):.2f}x |", flush=True)
for p in servers.values(): p.terminate()
