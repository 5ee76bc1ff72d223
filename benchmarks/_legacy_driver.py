"""Run a list of pyconviva 0.1.0 calls against a loopback server; report timings as JSON.

Runs under the legacy virtual environment's interpreter (``python -I``), never ours: both
packages are imported as ``pyconviva``. The job arrives as JSON on stdin (so credentials never
show in a process listing):

    {"base_url": "https://127.0.0.1:8443", "ca_path": "/tmp/ca.pem" | null,
     "client_id": "...", "client_key": "...", "keep_going": false, "keep_replies": false,
     "calls": [{"method": "get_historical_data", "kwargs": {...}}, ...]}

0.1.0 sends every call with ``requests.get(url, params=..., auth=..., timeout=30)`` to the
hard-coded https://api.conviva.com. The driver wraps ``requests.get`` to swap that origin for
``base_url`` and to trust ``ca_path``; each call still goes through ``requests.get``, which opens
a new session, so a new connection and TLS handshake per call, as 0.1.0 does against the real
API. With ``keep_going``, a call that fails with an HTTP status is counted and the loop goes on
(0.1.0 itself raises on the first one).

Prints one JSON object: {"seconds": <time of the call loop>, "failures": {"429": 3, ...},
"replies": [...] or null}.
"""

import json
import sys
import time
from collections import Counter

import requests

import pyconviva

LEGACY_ORIGIN = "https://api.conviva.com"


def redirect_requests(base_url, ca_path):
    """Send 0.1.0's requests to ``base_url`` instead of the real API, trusting ``ca_path``."""
    send = requests.get
    verify = ca_path or True

    def redirected_get(url, **kwargs):
        if not url.startswith(LEGACY_ORIGIN):
            raise ValueError(f"unexpected URL from pyconviva 0.1.0: {url}")
        return send(base_url + url[len(LEGACY_ORIGIN) :], verify=verify, **kwargs)

    requests.get = redirected_get


def run(job):
    redirect_requests(job["base_url"], job["ca_path"])
    api = pyconviva.ConvivaAPI(job["client_id"], job["client_key"])
    calls = [(getattr(api, call["method"]), call["kwargs"]) for call in job["calls"]]
    replies = []
    failures = Counter()
    started = time.perf_counter()
    for method, kwargs in calls:
        try:
            replies.append(method(**kwargs))
        except requests.HTTPError as exc:
            if not job["keep_going"]:
                raise
            failures[str(exc.response.status_code)] += 1
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "failures": dict(failures),
        "replies": replies if job["keep_replies"] else None,
    }


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
