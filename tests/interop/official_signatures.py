#!/usr/bin/env python3
"""Drives the release binary with callbacks signed by Twilio's official Python library.

The service is configured only through the environment (no settings file), as an operator
would run it in a container. Every signed callback must get the instruction its rule says;
every forged one must get 403 with no instruction.

Usage: official_signatures.py PATH_TO_BINARY   (needs `pip install twilio`)
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from twilio.request_validator import RequestValidator

TOKEN = "interop-token-5f1c0a"
PUBLIC_URL = "https://router.example.com/assignment"

RULES = """
[[rules]]
name = "spanish-billing"
when = 'task.language == "es" AND worker.skills HAS "billing" AND TaskAge < 300'
instruction = "dequeue"
from = "{{task.to}}"
to = "{{worker.contact_uri}}"
post_work_activity_sid = "WA0123456789abcdef0123456789abcdef"
timeout = 30
status_callback_events = ["answered", "completed"]

[[rules]]
name = "callback-request"
when = 'task.type == "callback"'
instruction = "call"
from = "+15005550006"
url = "https://example.com/twiml?task={{TaskSid}}"
accept = true

[[rules]]
name = "voicemail"
when = 'task.type == "voice" AND TaskAge > 600'
instruction = "redirect"
call_sid = "{{task.call_sid}}"
url = "https://example.com/voicemail"
accept = true

[[rules]]
name = "trainees"
when = 'worker.level IN ["trainee"]'
instruction = "reject"
activity_sid = "WAfedcba9876543210fedcba9876543210"

[[rules]]
name = "chats"
when = 'task.channel == "chat"'
instruction = "defer"

[default]
instruction = "accept"
"""

SIDS = {
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "WorkspaceSid": "WS0123456789abcdef0123456789abcdef",
    "WorkflowSid": "WW0123456789abcdef0123456789abcdef",
    "TaskQueueSid": "WQ0123456789abcdef0123456789abcdef",
    "WorkerSid": "WK0123456789abcdef0123456789abcdef",
    "TaskSid": "WT0123456789abcdef0123456789abcdef",
    "ReservationSid": "WR0123456789abcdef0123456789abcdef",
}


def callback(task, worker, age=12):
    params = dict(SIDS)
    params.update(
        TaskAge=str(age),
        TaskPriority="1",
        TaskAttributes=json.dumps(task),
        WorkerAttributes=json.dumps(worker),
    )
    return params


CASES = [
    (
        callback({"language": "es", "to": "+15005550001"},
                 {"skills": ["billing"], "contact_uri": "client:alice"}),
        {"instruction": "dequeue", "to": "client:alice", "from": "+15005550001",
         "post_work_activity_sid": "WA0123456789abcdef0123456789abcdef", "timeout": 30,
         "status_callback_events": "answered,completed"},
    ),
    (
        callback({"type": "callback"}, {}),
        {"instruction": "call", "from": "+15005550006",
         "url": "https://example.com/twiml?task=WT0123456789abcdef0123456789abcdef",
         "accept": True},
    ),
    (
        callback({"type": "voice", "call_sid": "CA0123456789abcdef0123456789abcdef"}, {}, age=900),
        {"instruction": "redirect", "call_sid": "CA0123456789abcdef0123456789abcdef",
         "url": "https://example.com/voicemail", "accept": True},
    ),
    (
        callback({"type": "voice"}, {"level": "trainee"}),
        {"instruction": "reject", "activity_sid": "WAfedcba9876543210fedcba9876543210"},
    ),
    (callback({"channel": "chat"}, {}), {}),
    (callback({"type": "voice", "note": "ünïcödé & 100% + more"}, {}), {"instruction": "accept"}),
]


def post(port, params, signature):
    body = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/assignment", data=body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if signature is not None:
        request.add_header("X-Twilio-Signature", signature)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


def start(binary, rules_path):
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "TWILIO_AUTH_TOKEN": TOKEN,
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
        entry = json.loads(line)
        if entry.get("fields", {}).get("message") == "listening":
            return process, entry["fields"]["port"]
        if time.monotonic() > deadline:
            break
    process.kill()
    sys.exit("the service did not start")


def main():
    binary = os.path.abspath(sys.argv[1])
    validator = RequestValidator(TOKEN)
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        rules_path = os.path.join(folder, "rules.toml")
        with open(rules_path, "w") as rules_file:
            rules_file.write(RULES)
        process, port = start(binary, rules_path)
        try:
            for params, expected in CASES:
                signature = validator.compute_signature(PUBLIC_URL, params)
                status, content_type, body = post(port, params, signature)
                if status != 200 or content_type != "application/json" or json.loads(body) != expected:
                    failures += 1
                    print(f"FAIL signed: {status} {content_type} {body!r} != {expected}")
                forgeries = {
                    "no signature": (params, None),
                    "another token": (params, RequestValidator("other").compute_signature(PUBLIC_URL, params)),
                    "another URL": (params, validator.compute_signature(PUBLIC_URL + "/", params)),
                    "tampered": ({**params, "TaskAge": "1"}, signature),
                }
                for name, (sent, forged) in forgeries.items():
                    status, _, body = post(port, sent, forged)
                    if status != 403 or body:
                        failures += 1
                        print(f"FAIL {name}: {status} {body!r}")
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=15)
            if code != 0:
                failures += 1
                print(f"FAIL: exit code {code} after SIGTERM")
    checks = len(CASES) * 5 + 1
    print(f"{checks - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
