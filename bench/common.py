"""What the benchmark scripts share."""
import atexit, os, shutil, tempfile, time, urllib.request


def scratch(prefix):
    """A directory for a run's own files (databases, a corpus: 160 MB for
    paths.py), removed when the script exits; `KEEP=1` keeps it to look
    into."""
    path = tempfile.mkdtemp(prefix=prefix)
    if not os.environ.get("KEEP"):
        atexit.register(shutil.rmtree, path, True)
    return path


def wait_for(port, path="/healthz", pause=0.01):
    """Returns once the server on `port` answers `path` with a success."""
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}")
            return
        except Exception:
            time.sleep(pause)
