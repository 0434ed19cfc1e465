"""What the benchmark scripts share."""
import time, urllib.request


def wait_healthy(port):
    """Returns once the server on `port` answers `/healthz`."""
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz")
            return
        except Exception:
            time.sleep(0.01)
