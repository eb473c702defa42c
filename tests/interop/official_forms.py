#!/usr/bin/env python3
"""Compares the release binary's REST Reservation updates with what Twilio's official Python
library sends for the same update.

A local HTTP server stands in for Twilio's REST API and records every update the service
sends. For each instruction, one `delivery = "rest"` rule with (nearly) every field it takes
is chosen by a signed callback; the recorded request must have the same path, the same Basic
auth and the same form (as a multiset of decoded pairs) as
`client.taskrouter.v1.workspaces(WS).workers(WK).reservations(WR).update(...)`, captured from
the library's HTTP client without touching the network.

Usage: official_forms.py PATH_TO_BINARY   (needs `pip install twilio`)
"""

import base64
import collections
import hashlib
import http.server
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

TOKEN = "interop-token-9d2e7b"
ACCOUNT_SID = "AC5ea8c1f2d3b4a5968778695a4b3c2d1e"
PUBLIC_URL = "https://router.example.com/assignment"
FORM = "application/x-www-form-urlencoded"
WAIT_SECONDS = 5
# The stand-in for Twilio holds each answer this long; the callback's answer must come well
# before, or the service waited for Twilio before answering TaskRouter.
TWILIO_LATENCY = 1.0
ANSWER_WITHIN = 0.5

SIDS = {
    "AccountSid": ACCOUNT_SID,
    "WorkspaceSid": "WS0123456789abcdef0123456789abcdef",
    "WorkflowSid": "WW0123456789abcdef0123456789abcdef",
    "TaskQueueSid": "WQ0123456789abcdef0123456789abcdef",
    "WorkerSid": "WK0123456789abcdef0123456789abcdef",
    "TaskSid": "WT0123456789abcdef0123456789abcdef",
}

ACTIVITY = "WAfedcba9876543210fedcba9876543210"
CALL_SID = "CA0123456789abcdef0123456789abcdef"
STATUS_URL = "https://example.com/status?source=router&kind=call"
TWIML_URL = "https://example.com/twiml/callback?task=WT0123456789abcdef0123456789abcdef"

RULES = f"""
[[rules]]
name = "accept-over-rest"
when = 'task.case == "accept"'
instruction = "accept"
delivery = "rest"

[[rules]]
name = "reject-over-rest"
when = 'task.case == "reject"'
instruction = "reject"
delivery = "rest"
activity_sid = "{ACTIVITY}"

[[rules]]
name = "dequeue-over-rest"
when = 'task.case == "dequeue"'
instruction = "dequeue"
delivery = "rest"
from = "{{{{task.from}}}}"
to = "{{{{worker.contact_uri}}}}"
post_work_activity_sid = "{ACTIVITY}"
record = "record-from-answer"
timeout = 30
status_callback_url = "{STATUS_URL}"
status_callback_events = ["initiated", "ringing", "answered", "completed"]

[[rules]]
name = "call-over-rest"
when = 'task.case == "call"'
instruction = "call"
delivery = "rest"
from = "+15005550006"
url = "{TWIML_URL}"
to = "sip:alice@example.com;transport=tls"
accept = true
record = "do-not-record"
timeout = 999
status_callback_url = "{STATUS_URL}"

[[rules]]
name = "redirect-over-rest"
when = 'task.case == "redirect"'
instruction = "redirect"
delivery = "rest"
call_sid = "{{{{task.call_sid}}}}"
url = "https://example.com/twiml/voicemail"
accept = false

[[rules]]
name = "conference-over-rest"
when = 'task.case == "conference"'
instruction = "conference"
delivery = "rest"
to = "client:alice"
from = "+15005550006"
timeout = 1
record = true
muted = false
beep = "onEnter"
start_conference_on_enter = true
end_conference_on_exit = false
end_conference_on_customer_exit = true
beep_on_customer_entrance = false
wait_url = "https://example.com/hold-music?genre=jazz&loop=0"
wait_method = "GET"
early_media = true
max_participants = 250
status_callback = "https://example.com/participant"
status_callback_method = "POST"
status_callback_event = ["initiated", "answered", "completed"]
conference_status_callback = "https://example.com/conference"
conference_status_callback_method = "GET"
conference_status_callback_event = ["start", "end", "join", "leave", "mute", "hold", "speaker"]
conference_record = "record-from-start"
conference_trim = "do-not-trim"
recording_channels = "dual"
recording_status_callback = "https://example.com/recording"
recording_status_callback_method = "POST"
conference_recording_status_callback = "https://example.com/conference-recording"
conference_recording_status_callback_method = "GET"
region = "ie1"
sip_auth_username = "agënt 7"
sip_auth_password = "p@ss w0rd+/&=%?"
post_work_activity_sid = "{ACTIVITY}"
jitter_buffer_size = "large"

[default]
instruction = "accept"
"""

# Per case: the task and worker attributes of the callback, and the keyword arguments of the
# official library's `update` for the same Reservation update.
CASES = [
    ("accept", {}, {}, {"reservation_status": "accepted"}),
    ("reject", {}, {},
     {"reservation_status": "rejected", "worker_activity_sid": ACTIVITY}),
    ("dequeue", {"from": "+15005550001"}, {"contact_uri": "client:alice"},
     {"instruction": "dequeue", "dequeue_to": "client:alice", "dequeue_from": "+15005550001",
      "dequeue_post_work_activity_sid": ACTIVITY, "dequeue_record": "record-from-answer",
      "dequeue_timeout": 30, "dequeue_status_callback_url": STATUS_URL,
      "dequeue_status_callback_event": ["initiated", "ringing", "answered", "completed"]}),
    ("call", {}, {},
     {"instruction": "call", "call_from": "+15005550006", "call_url": TWIML_URL,
      "call_to": "sip:alice@example.com;transport=tls", "call_accept": True,
      "call_record": "do-not-record", "call_timeout": 999,
      "call_status_callback_url": STATUS_URL}),
    ("redirect", {"call_sid": CALL_SID}, {},
     {"instruction": "redirect", "redirect_call_sid": CALL_SID,
      "redirect_url": "https://example.com/twiml/voicemail", "redirect_accept": False}),
    ("conference", {}, {},
     {"instruction": "conference", "to": "client:alice", "from_": "+15005550006",
      "timeout": 1, "record": True, "muted": False, "beep": "onEnter",
      "start_conference_on_enter": True, "end_conference_on_exit": False,
      "end_conference_on_customer_exit": True, "beep_on_customer_entrance": False,
      "wait_url": "https://example.com/hold-music?genre=jazz&loop=0", "wait_method": "GET",
      "early_media": True, "max_participants": 250,
      "status_callback": "https://example.com/participant", "status_callback_method": "POST",
      "status_callback_event": ["initiated", "answered", "completed"],
      "conference_status_callback": "https://example.com/conference",
      "conference_status_callback_method": "GET",
      "conference_status_callback_event":
          ["start", "end", "join", "leave", "mute", "hold", "speaker"],
      "conference_record": "record-from-start", "conference_trim": "do-not-trim",
      "recording_channels": "dual",
      "recording_status_callback": "https://example.com/recording",
      "recording_status_callback_method": "POST",
      "conference_recording_status_callback": "https://example.com/conference-recording",
      "conference_recording_status_callback_method": "GET", "region": "ie1",
      "sip_auth_username": "agënt 7", "sip_auth_password": "p@ss w0rd+/&=%?",
      "post_work_activity_sid": ACTIVITY, "jitter_buffer_size": "large"}),
]
# Per case: the answer, one update seen, then its method, path, auth, content type and form.
CHECKS_PER_CASE = 7


def reservation_sid(case):
    return "WR" + hashlib.md5(case.encode()).hexdigest()


class MockTwilio(http.server.ThreadingHTTPServer):
    """Stands in for Twilio's REST API: records every POST and answers 200 `{}`, slowly."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.lock = threading.Lock()
        self.requests = []
        self.answered = 0

    def find(self, sid):
        with self.lock:
            return [r for r in self.requests if sid in r["path"]]

    def settle(self, timeout):
        """Waits until every request received has had its answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.answered >= len(self.requests):
                    return
            time.sleep(0.02)


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with self.server.lock:
            self.server.requests.append({
                "method": self.command,
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "body": body,
            })
        time.sleep(TWILIO_LATENCY)
        answer = b"{}"
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except OSError:
            pass  # the service gave up on this request
        with self.server.lock:
            self.server.answered += 1

    def log_message(self, format, *args):
        pass


class CapturingHttpClient(HttpClient):
    """The official library's HTTP client, recording each request instead of sending it."""

    def __init__(self):
        super().__init__(logging.getLogger("official_forms"), is_async=False)
        self.captured = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        self.captured.append({"method": method, "url": url, "data": data,
                              "headers": headers, "auth": auth})
        return Response(200, "{}")


def official_request(sid, kwargs):
    """What the official library sends to update Reservation `sid` with `kwargs`."""
    http_client = CapturingHttpClient()
    client = Client(ACCOUNT_SID, TOKEN, http_client=http_client)
    reservation = (client.taskrouter.v1.workspaces(SIDS["WorkspaceSid"])
                   .workers(SIDS["WorkerSid"]).reservations(sid))
    reservation.update(**kwargs)
    (request,) = http_client.captured
    # requests' `data=dict` body: lists become repeated keys.
    request["body"] = urllib.parse.urlencode(request["data"], doseq=True)
    return request


def pairs(body):
    if isinstance(body, bytes):
        body = body.decode("ascii")
    return collections.Counter(urllib.parse.parse_qsl(
        body, keep_blank_values=True, strict_parsing=bool(body), errors="strict"))


def basic_auth(header):
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    username, _, password = base64.b64decode(encoded).decode().partition(":")
    return username, password


def callback(case, task, worker):
    params = dict(SIDS)
    params.update(
        ReservationSid=reservation_sid(case),
        TaskAge="5",
        TaskPriority="1",
        TaskAttributes=json.dumps({"case": case, **task}),
        WorkerAttributes=json.dumps(worker),
    )
    return params


def post(port, params, signature):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/assignment",
        data=urllib.parse.urlencode(params).encode(), method="POST",
        headers={"Content-Type": FORM, "X-Twilio-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


def start(binary, rules_path, mock_port):
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "APP_TWILIO__API_BASE_URL": f"http://127.0.0.1:{mock_port}",
        "APP_RULES__PATH": rules_path,
        "APP_SERVER__PORT": "0",
        "APP_ADMIN__PORT": "0",
        "APP_CALLBACK__PUBLIC_URL": PUBLIC_URL,
        "APP_LOG__FORMAT": "json",
    }
    process = subprocess.Popen(
        [binary], cwd=os.path.dirname(rules_path), env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 30
    for line in process.stdout:
        try:
            entry = json.loads(line)
        except ValueError:
            print(line, end="")
            continue
        if entry.get("fields", {}).get("message") == "listening":
            # Keep reading, so that the service never blocks on a full pipe.
            threading.Thread(target=lambda: collections.deque(process.stdout, maxlen=0),
                             daemon=True).start()
            return process, entry["fields"]["port"]
        if time.monotonic() > deadline:
            break
    process.kill()
    sys.exit("the service did not start")


def wait_for(mock, sid):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        seen = mock.find(sid)
        if seen:
            time.sleep(0.2)  # a second update would be a failure too: let it arrive
            return mock.find(sid)
        time.sleep(0.02)
    return []


def compare(sent, official):
    """How the service's request differs from the library's: (check, description) pairs."""
    problems = []
    if sent["method"] != official["method"]:
        problems.append(("method", f"{sent['method']} != the library's {official['method']}"))
    official_path = urllib.parse.urlsplit(official["url"]).path
    if sent["path"] != official_path:
        problems.append(("path", f"{sent['path']} != the library's {official_path}"))
    credentials = basic_auth(sent["authorization"])
    if credentials is None:
        problems.append(("auth", "no Basic Authorization header"))
    elif credentials[0] != ACCOUNT_SID:
        problems.append(("auth", f"Basic auth username {credentials[0]!r} != {ACCOUNT_SID}"))
    elif credentials != tuple(official["auth"]):
        problems.append(("auth", "Basic auth password differs from the library's"))
    essence = (sent["content_type"] or "").split(";")[0].strip().lower()
    if essence != FORM or official["headers"].get("Content-Type") != FORM:
        problems.append(("content type", f"{sent['content_type']!r} != {FORM}"))
    try:
        service_pairs = pairs(sent["body"])
    except (UnicodeDecodeError, ValueError) as error:
        problems.append(("form", f"body {sent['body']!r} does not decode: {error}"))
        return problems
    library_pairs = pairs(official["body"])
    for (key, value), count in sorted((service_pairs - library_pairs).items()):
        problems.append(("form", f"the service sends {key}={value!r} (x{count}); "
                                 f"the library does not"))
    for (key, value), count in sorted((library_pairs - service_pairs).items()):
        problems.append(("form", f"the library sends {key}={value!r} (x{count}); "
                                 f"the service does not"))
    return problems


def main():
    binary = os.path.abspath(sys.argv[1])
    validator = RequestValidator(TOKEN)
    failures = 0
    checks = 0
    mock = MockTwilio()
    threading.Thread(target=mock.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as folder:
        rules_path = os.path.join(folder, "rules.toml")
        with open(rules_path, "w", encoding="utf-8") as rules_file:
            rules_file.write(RULES)
        process, port = start(binary, rules_path, mock.server_address[1])
        try:
            for case, task, worker, kwargs in CASES:
                checks += CHECKS_PER_CASE
                params = callback(case, task, worker)
                sent_at = time.monotonic()
                status, content_type, body = post(
                    port, params, validator.compute_signature(PUBLIC_URL, params))
                took = time.monotonic() - sent_at
                if (status != 200 or content_type != "application/json" or body != b"{}"
                        or took > ANSWER_WITHIN):
                    failures += 1
                    print(f"FAIL {case}: answered {status} {content_type} {body!r} in "
                          f"{took:.2f}s, not 200 {{}} within {ANSWER_WITHIN}s")
                seen = wait_for(mock, params["ReservationSid"])
                if len(seen) != 1:
                    failures += CHECKS_PER_CASE - 1
                    print(f"FAIL {case}: Twilio got {len(seen)} updates within "
                          f"{WAIT_SECONDS}s, not 1")
                    continue
                problems = compare(seen[0], official_request(params["ReservationSid"], kwargs))
                for check, problem in problems:
                    print(f"FAIL {case}: {check}: {problem}")
                failures += len({check for check, _ in problems})
        finally:
            mock.settle(TWILIO_LATENCY + 2)
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                code = "none: killed after 15s"
            mock.shutdown()
            checks += 1
            if code != 0:
                failures += 1
                print(f"FAIL: exit code {code} after SIGTERM")
    print(f"{checks - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
