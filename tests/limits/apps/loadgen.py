"""A real load generator: GET requests over loopback from threads, with urllib.

    python loadgen.py BASE_URL REQUESTS THREADS DISTINCT

Request i asks for BASE_URL/item/<i mod DISTINCT>. Prints how many succeeded; exits 1 if
any failed.
"""

import sys
import threading
import urllib.request


def main() -> int:
    base, total, threads, distinct = (
        sys.argv[1],
        int(sys.argv[2]),
        int(sys.argv[3]),
        int(sys.argv[4]),
    )
    counter = iter(range(total))
    lock = threading.Lock()
    results = {"ok": 0, "failed": 0}

    def worker() -> None:
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            try:
                with urllib.request.urlopen(
                    f"{base}/item/{number % distinct}", timeout=10
                ) as answer:
                    answer.read()
                    outcome = "ok" if answer.status == 200 else "failed"
            except OSError:
                outcome = "failed"
            with lock:
                results[outcome] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    print(f"{results['ok']} ok, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
