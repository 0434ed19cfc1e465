"""How long a live event takes to reach a listener: from a moderator's
approval being answered to its `reply.approved` frame on `GET /v1/events`.

    BIN=target/release/relief-api python3 bench/events.py
    (OLD=another binary: measured beside BIN's, same run; N approvals each,
    alternating in ROUNDS rounds)

Each server gets its own SQLite file and a moderator token. One stream is
opened per server; each approval is timed from the end of its PATCH's
answer to the arrival of its frame. p50, p90 and max are reported per
binary."""
import http.client, json, os, statistics, subprocess, sys, tempfile, threading, time

from common import wait_for

N = int(os.environ.get("N", "40"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
SLUG = "deep-tissue-massage-for-back-pain"
TOKEN = "bench-moderator-token-0123456789abcdef"
SCRATCH = tempfile.mkdtemp(prefix="relief-events-")
PORT = [18950]


class Server:
    def __init__(self, binary):
        PORT[0] += 1
        self.port = PORT[0]
        tokens = os.path.join(SCRATCH, f"{self.port}.tokens")
        line = subprocess.run([binary, "hash-token"], input=TOKEN, capture_output=True,
                              text=True, check=True).stdout
        open(tokens, "w").write(line)
        self.proc = subprocess.Popen(
            [binary, "--bind", f"127.0.0.1:{self.port}", "--reply-rate-per-minute", "0",
             "--database-url", f"sqlite://{SCRATCH}/{self.port}.db",
             "--moderator-tokens-file", tokens],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": "warn"})
        wait_for(self.port)
        self.arrived = {}
        self.lock = threading.Condition()
        threading.Thread(target=self.listen, daemon=True).start()
        time.sleep(0.5)

    def listen(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port)
        conn.request("GET", "/v1/events")
        answer = conn.getresponse()
        for raw in answer:
            line = raw.decode()
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event["type"] == "reply.approved":
                    with self.lock:
                        self.arrived[event["data"]["id"]] = time.perf_counter()
                        self.lock.notify_all()

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
        with self.lock:
            while reply["id"] not in self.arrived:
                if not self.lock.wait(timeout=10):
                    sys.exit(f"event {reply['id']} never arrived")
            return (self.arrived[reply["id"]] - answered) * 1000

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def main():
    binaries = [("BIN", os.environ.get("BIN", "target/release/relief-api"))]
    if os.environ.get("OLD"):
        binaries.append(("OLD", os.environ["OLD"]))
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
    print(f"# {N} approvals per binary, {ROUNDS} alternating rounds; ms from the approval's answer to its frame")
    print("| binary | p50 | p90 | max |")
    print("| --- | ---: | ---: | ---: |")
    for name, ms in times.items():
        ms.sort()
        p90 = ms[int(len(ms) * 0.9) - 1]
        print(f"| {name} | {statistics.median(ms):.1f} | {p90:.1f} | {ms[-1]:.1f} |")
    for server in servers.values():
        server.stop()


if __name__ == "__main__":
    main()
