"""How long a live event takes to reach a listener: from a moderator's
approval being answered to its `reply.approved` frame on `GET /v1/events`.

    BIN=target/release/relief-api python3 bench/events.py
    (OLD=another binary: measured beside BIN's, same run; N approvals each,
    alternating in ROUNDS rounds)

Each server gets its own SQLite file and a moderator token. One stream is
opened per server; each approval is timed from the end of its PATCH's
answer to the arrival of its frame. p50, p90 and max are reported per
binary.

With DATABASE_URL=postgres://USER:PASSWORD@HOST/DB (a server whose user may
create databases), it measures instead what reaches another replica: per
binary, two servers on one fresh PostgreSQL database (named after DB and
the binary), the first reloading (SIGHUP) an edited copy of the content N
times; each content.updated frame is timed from its arrival on the first
server's stream to its arrival on the second's."""
import http.client, json, os, shutil, signal, statistics, subprocess, sys, threading, time

from common import scratch, wait_for

N = int(os.environ.get("N", "40"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
SLUG = "deep-tissue-massage-for-back-pain"
TOKEN = "bench-moderator-token-0123456789abcdef"
SCRATCH = scratch("relief-events-")
PORT = [18950]


class Server:
    def __init__(self, binary, database=None, content=None):
        PORT[0] += 1
        self.port = PORT[0]
        tokens = os.path.join(SCRATCH, f"{self.port}.tokens")
        line = subprocess.run([binary, "hash-token"], input=TOKEN, capture_output=True,
                              text=True, check=True).stdout
        open(tokens, "w").write(line)
        self.proc = subprocess.Popen(
            [binary, "--bind", f"127.0.0.1:{self.port}", "--reply-rate-per-minute", "0",
             "--database-url", database or f"sqlite://{SCRATCH}/{self.port}.db",
             "--moderator-tokens-file", tokens]
            + (["--content-dir", content] if content else []),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": "warn"})
        wait_for(self.port)
        # Reply approvals by reply id; content updates by their number in
        # the outbox, which every replica's stream gives alike.
        self.arrived = {}
        self.lock = threading.Condition()
        threading.Thread(target=self.listen, daemon=True).start()
        time.sleep(0.5)

    def listen(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port)
        conn.request("GET", "/v1/events")
        answer = conn.getresponse()
        seq = None
        for raw in answer:
            line = raw.decode()
            if line.startswith("id: "):
                seq = int(line[4:])
            if line.startswith("data: "):
                event = json.loads(line[6:])
                key = {"reply.approved": lambda: event["data"]["id"],
                       "content.updated": lambda: ("content", seq)}.get(event["type"])
                if key:
                    with self.lock:
                        self.arrived[key()] = time.perf_counter()
                        self.lock.notify_all()

    def wait(self, key):
        with self.lock:
            while key not in self.arrived:
                if not self.lock.wait(timeout=10):
                    sys.exit(f"event {key} never arrived")
            return self.arrived[key]

    def content_updates(self):
        with self.lock:
            return {key for key in self.arrived if isinstance(key, tuple)}

    def call(self, method, path, body, moderator=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port)
        headers = {"content-type": "application/json"}
        if moderator:
            headers["authorization"] = f"Bearer {TOKEN}"
        conn.request(method, path, json.dumps(body), headers)
        answer = conn.getresponse()
        data = answer.read()
        conn.close()
        assert answer.status < 300, (answer.status, data)
        return json.loads(data)

    def one(self, n):
        reply = self.call("POST", f"/v1/articles/{SLUG}/replies",
                          {"author_name": "Bench", "body": f"Timed reply {n} {time.time()}"})
        self.call("PATCH", f"/v1/moderation/replies/{reply['id']}", {"status": "approved"},
                  moderator=True)
        answered = time.perf_counter()
        return (self.wait(reply["id"]) - answered) * 1000

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def report(what, times):
    print(what)
    print("| binary | p50 | p90 | max |")
    print("| --- | ---: | ---: | ---: |")
    for name, ms in times.items():
        ms.sort()
        p90 = ms[int(len(ms) * 0.9) - 1]
        print(f"| {name} | {statistics.median(ms):.1f} | {p90:.1f} | {ms[-1]:.1f} |")


def fresh_database(url, name):
    """A new database `name` on the server of `url`; its URL."""
    base, _, _ = url.rpartition("/")
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", url, "-q", "-c", sql], check=True,
                       env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"})
    return f"{base}/{name}"


def across_replicas(binaries, url):
    """Content updates written by one replica, timed to another's stream."""
    pairs = {}
    for name, binary in binaries:
        content = os.path.join(SCRATCH, f"content-{name}")
        shutil.copytree(os.path.join(os.path.dirname(__file__), "..", "content"), content)
        database = fresh_database(url, f"{url.rpartition('/')[2]}_events_{name.lower()}")
        pairs[name] = (Server(binary, database, content), Server(binary, database, content),
                       os.path.join(content, "articles", f"{SLUG}.toml"))
    times = {name: [] for name in pairs}
    words = ("a common contributing factor", "a frequent contributing factor")
    count = 0
    for _ in range(ROUNDS):
        for name, (writer, other, article) in pairs.items():
            for _ in range(N // ROUNDS):
                count += 1
                text = open(article, encoding="utf-8").read()
                old, new = words if words[0] in text else words[::-1]
                before = writer.content_updates()
                open(article, "w", encoding="utf-8").write(text.replace(old, new, 1))
                writer.proc.send_signal(signal.SIGHUP)
                deadline = time.time() + 10
                while not (writer.content_updates() - before):
                    if time.time() > deadline:
                        sys.exit("no content.updated on the writer's stream")
                    time.sleep(0.001)
                (key,) = writer.content_updates() - before
                times[name].append((other.wait(key) - writer.wait(key)) * 1000)
                time.sleep(0.037)
    report(f"# {N} content updates per binary, {ROUNDS} alternating rounds; ms from a frame on "
           "the writing replica's stream to the same frame on the other's", times)
    for writer, other, _ in pairs.values():
        writer.stop()
        other.stop()


def main():
    binaries = [("BIN", os.environ.get("BIN", "target/release/relief-api"))]
    if os.environ.get("OLD"):
        binaries.append(("OLD", os.environ["OLD"]))
    if os.environ.get("DATABASE_URL"):
        return across_replicas(binaries, os.environ["DATABASE_URL"])
    servers = {name: Server(binary) for name, binary in binaries}
    times = {name: [] for name in servers}
    count = 0
    for _ in range(ROUNDS):
        for name, server in servers.items():
            for _ in range(N // ROUNDS):
                count += 1
                times[name].append(server.one(count))
                # Approvals come at random moments against the worker's tick.
                time.sleep(0.037)
    report(f"# {N} approvals per binary, {ROUNDS} alternating rounds; ms from the approval's "
           "answer to its frame", times)
    for server in servers.values():
        server.stop()


if __name__ == "__main__":
    main()
