"""The paths beyond the prepared bytes, measured against their targets in one
run (issue #14): search over 10,000 articles, the reader page, access lines.

    BIN=target/release/relief-api python3 bench/paths.py [--check]
    (OLD=another binary: its search is measured beside BIN's, same run;
    ONLY=search or ONLY=page runs one half)

Search: 10,000 synthetic articles (bench/gen_corpus.py), queries of two
random words of the source article at random offsets (bench/search.lua),
which the response cache cannot answer; 64 connections, and one at a time.
Its requests/s are compared with the plain article route's (a cache hit)
in the same run, and the mean and spread of their latencies. Beside a
search flood: the article route (8 connections) while 64 connections
search, against the article route alone. Start-up and peak RSS (VmHWM) at
10,000 articles.
Reader page: server CPU time per request against the JSON article's, on
the source article. Access lines: CPU per request on the article route
with `RUST_LOG=info` (lines on, read through a pipe) against `warn`, in
LOG_ROUNDS (10) alternating rounds of LOG_DUR (3) seconds.
Servers get CPU 0 and wrk CPU 1 (taskset); ROUNDS (4) rounds of DUR seconds,
alternating between BIN and OLD (both servers up, one loaded at a time),
medians reported. Even, so that each binary goes first in as many rounds:
with 3, the same binary measured up to 9% more CPU a search as the one that
went first twice. The latencies of whichever binary was started first
spread wider whatever the rounds (cause unknown, bench/README.md): compare
two binaries' p99 with the order swapped too."""
import os, re, statistics, subprocess, sys, threading, time, urllib.request

from common import scratch, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "content", "articles", "deep-tissue-massage-for-back-pain.toml")
SLUG = "deep-tissue-massage-for-back-pain"
ROUNDS = int(os.environ.get("ROUNDS", "4"))
DUR = os.environ.get("DUR", "5")
LOG_ROUNDS = int(os.environ.get("LOG_ROUNDS", "10"))
LOG_DUR = os.environ.get("LOG_DUR", "3")
TICK = os.sysconf("SC_CLK_TCK")
SCRATCH = scratch("relief-paths-")
PORT = [18900]


def start(binary, args=(), log="warn"):
    PORT[0] += 1
    port = PORT[0]
    began = time.time()
    proc = subprocess.Popen(
        ["taskset", "-c", "0", binary, "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--database-url", f"sqlite://{SCRATCH}/{port}.db", "--reply-rate-per-minute", "0", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "RUST_LOG": f"{log},relief_api::reload=info,relief_api::sync=info",
             # As the Docker image and the Kubernetes example run it.
             "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}, text=True)
    # Log lines go through a pipe that is read, as a collector reads them;
    # the background preparation (the index, then the compressed variants
    # or word that they are made on demand) and the first content history
    # record say when they are done: peak RSS is read after both.
    proc.prepared = threading.Event()
    indexed, recorded = threading.Event(), threading.Event()
    def read():
        for line in proc.stderr:
            if "compressed variants" in line:
                indexed.set()
            if "content history recorded" in line:
                recorded.set()
            if indexed.is_set() and recorded.is_set():
                proc.prepared.set()
    threading.Thread(target=read, daemon=True).start()
    wait_for(port)
    return proc, port, time.time() - began


def wait_for_search(port):
    wait_for(port, "/v1/search?q=massage", pause=0.1)


def cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024


UNIT_MS = {"us": 0.001, "ms": 1, "s": 1000}


def wrk_start(port, path, connections=64, script=None, dur=DUR):
    """wrk on CPU 1, started; its report is the process's stdout."""
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{dur}s", "--latency"]
    if script:
        cmd += ["-s", script]
    return subprocess.Popen(cmd + [f"http://127.0.0.1:{port}{path}"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env={**os.environ, "WORDS": WORDS})


def requests_per_second(out):
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def wrk(proc, port, path, connections=64, script=None, dur=DUR):
    before = cpu(proc.pid)
    out = wrk_start(port, path, connections, script, dur).communicate()[0]
    spent = cpu(proc.pid) - before
    rps = requests_per_second(out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(p99.group(1)) * UNIT_MS[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)", out)
    mean_ms, spread_ms = (float(latency.group(i)) * UNIT_MS[latency.group(i + 1)] for i in (1, 3))
    return {"rps": rps, "p99": p99_ms, "cpu_us": spent / max(total, 1) * 1e6,
            "mean": mean_ms, "stdev": spread_ms,
            "non2xx": int(errors.group(1)) if errors else 0}


def beside_searches(proc, port, path):
    """The article route's answer to 8 connections while 64 others search:
    whether a burst of searches waits in the pool, not in front of content."""
    flood = wrk_start(port, "/v1/search?q=x", script=SCRIPT)
    time.sleep(0.5)
    article = wrk(proc, port, path, connections=8, dur=str(max(int(DUR) - 1, 1)))
    return {**article, "search_rps": requests_per_second(flood.communicate()[0])}


def median(rows, key):
    return statistics.median(row[key] for row in rows)


# The source article's words, for queries.
text = open(SOURCE, encoding="utf-8").read()
words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)})
WORDS = os.path.join(SCRATCH, "words.txt")
open(WORDS, "w").write("\n".join(words) + "\n")
SCRIPT = os.path.join(HERE, "search.lua")

corpus = os.path.join(SCRATCH, "corpus")
subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), corpus, "10000"], check=True,
               capture_output=True)

ONLY = os.environ.get("ONLY", "")
binaries = [("new", os.environ["BIN"])] + ([("old", os.environ["OLD"])] if os.environ.get("OLD") else [])
if ONLY == "page":
    binaries = []
print(f"# {len(words)} query words; wrk -t1 on CPU 1, server 1 worker on CPU 0; {ROUNDS} rounds of {DUR} s, medians")
results = {}
# Every binary is started (one at a time, each prepared before the next
# starts), then the rounds alternate between them, the order flipped each
# round, so that the host's drift falls on both alike.
servers = []
for name, binary in binaries:
    proc, port, startup = start(binary, ["--content-dir", corpus])
    wait_for_search(port)
    # Measured once the background compression is done, not beside it.
    proc.prepared.wait(300)
    wrk(proc, port, f"/v1/articles/synthetic-article-00001", dur="1")
    wrk(proc, port, "/v1/search?q=x", script=SCRIPT, dur="1")
    servers.append((name, proc, port))
    results[name] = dict(startup=startup, article=[], search=[], single=[], mixed=[])
for r in range(ROUNDS):
    for name, proc, port in (servers if r % 2 == 0 else servers[::-1]):
        rows = results[name]
        rows["article"].append(wrk(proc, port, "/v1/articles/synthetic-article-00001"))
        rows["search"].append(wrk(proc, port, "/v1/search?q=x", script=SCRIPT))
        rows["single"].append(wrk(proc, port, "/v1/search?q=x", connections=1, script=SCRIPT))
        rows["mixed"].append(beside_searches(proc, port, "/v1/articles/synthetic-article-00001"))
for name, proc, port in servers:
    results[name]["rss"] = peak_rss_mb(proc.pid)
    proc.terminate(); proc.wait()

failed = []
if binaries:
    print("\n## Search, 10,000 articles\n")
    print("| binary | start-up | peak RSS | article req/s | search req/s (64 conn.) | search/article | search p99 (64) | search p99 (1 at a time) | search CPU µs/req | non-2xx |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        a, s, one = median(r["article"], "rps"), median(r["search"], "rps"), r["single"]
        ratio = s / a
        print(f"| {name} | {r['startup']*1000:.0f} ms | {r['rss']:.1f} MB | {a:,.0f} | {s:,.0f} | {ratio*100:.1f}% | "
              f"{median(r['search'], 'p99'):.2f} ms | {median(one, 'p99'):.2f} ms | {median(r['search'], 'cpu_us'):.0f} | "
              f"{sum(x['non2xx'] for x in r['search'] + one)} |")
        if name == "new":
            if ratio < 0.05: failed.append("search req/s < 5% of the article's")
            if median(r["search"], "p99") >= 15: failed.append("search p99 at 64 connections >= 15 ms")
            if median(one, "p99") >= 2: failed.append("search p99 one at a time >= 2 ms")
            if r["rss"] >= 300: failed.append("peak RSS >= 300 MB")
            if r["startup"] >= 2: failed.append("start-up >= 2 s")

    # No target of #14's, but the pool's reason to be: content is answered
    # first while searches flood in (64 connections searching, 8 reading).
    print("\n## The article route beside a search flood, 10,000 articles\n")
    print("| binary | search latency mean ± deviation (64 conn.) | article req/s alone | beside 64 searching | ratio | article p99 beside | search req/s beside |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        a, m = median(r["article"], "rps"), median(r["mixed"], "rps")
        print(f"| {name} | {median(r['search'], 'mean'):.2f} ± {median(r['search'], 'stdev'):.2f} ms | {a:,.0f} | {m:,.0f} | "
              f"{m / a:.2f}x | {median(r['mixed'], 'p99'):.2f} ms | {median(r['mixed'], 'search_rps'):,.0f} |")

if ONLY == "search":
    print("\ntargets missed: " + (", ".join(failed) if failed else "none"))
    sys.exit(1 if "--check" in sys.argv and failed else 0)

# Reader page and access lines, on the source article.
binary = os.environ["BIN"]
quiet, qport, _ = start(binary)
loud, lport, _ = start(binary, log="info")
json_rows, page_rows, off_rows, on_rows = [], [], [], []
for r in range(ROUNDS):
    json_rows.append(wrk(quiet, qport, f"/v1/articles/{SLUG}"))
    page_rows.append(wrk(quiet, qport, f"/articles/{SLUG}"))
# Lines on against off is a difference of about a microsecond in ten, well
# inside this machine's drift over a few rounds (1.20x and 1.09x measured
# for the same binaries, 3 rounds against 10): more, shorter rounds.
for r in range(LOG_ROUNDS):
    pair = [(quiet, qport, off_rows), (loud, lport, on_rows)]
    for proc, port, rows in (pair if r % 2 == 0 else pair[::-1]):
        rows.append(wrk(proc, port, f"/v1/articles/{SLUG}", dur=LOG_DUR))
for proc in (quiet, loud):
    proc.terminate(); proc.wait()
page_x = median(page_rows, "cpu_us") / median(json_rows, "cpu_us")
log_x = median(on_rows, "cpu_us") / median(off_rows, "cpu_us")
print("\n## Reader page and access lines, source article\n")
print("| measure | CPU µs/req | req/s | ratio | target |")
print("| --- | ---: | ---: | ---: | --- |")
print(f"| JSON article | {median(json_rows, 'cpu_us'):.1f} | {median(json_rows, 'rps'):,.0f} | 1.00x | |")
print(f"| reader page | {median(page_rows, 'cpu_us'):.1f} | {median(page_rows, 'rps'):,.0f} | {page_x:.2f}x | at most 3x |")
print(f"| article, access lines off (`RUST_LOG=warn`) | {median(off_rows, 'cpu_us'):.1f} | {median(off_rows, 'rps'):,.0f} | 1.00x | |")
print(f"| article, access lines on (`RUST_LOG=info`, read through a pipe) | {median(on_rows, 'cpu_us'):.1f} | {median(on_rows, 'rps'):,.0f} | {log_x:.2f}x | at most 1.15x |")
if page_x > 3: failed.append("reader page CPU > 3x the JSON article's")
if log_x > 1.15: failed.append("access lines cost > 1.15x")
print("\ntargets missed: " + (", ".join(failed) if failed else "none"))
if "--check" in sys.argv and failed:
    sys.exit(1)
