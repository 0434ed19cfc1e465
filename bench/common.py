"""What the benchmark scripts share."""
import time, urllib.request


def wait_for(port, path="/healthz", pause=0.01):
    """Returns once the server on `port` answers `path` with a success."""
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}")
            return
        except Exception:
            time.sleep(pause)
