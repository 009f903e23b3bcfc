#!/usr/bin/python3
"""Firecracker's getting-started sequence from Python, the way Python
orchestration code drives a Firecracker socket: a requests session over
the Unix socket (Debian's python3-requests-unixsocket, the adapter
Firecracker's own Python test framework used), JSON bodies, status codes
and fault messages checked as such a client checks them.

    fc_client.py SOCKET KERNEL INITRD DISK CONSOLE_LOG

Configures (machine-config, boot-source, a root drive), checks that a
bad request is a 400 whose fault_message a client can show, starts the
VM, reads GET / and GET /machine-config back as JSON, waits for the
guest's /init (CONSOLE_LOG), pauses and resumes it, then sends
SendCtrlAltDel. One line per step; exit status 1 at the first surprise.
"""
import sys
import time
import urllib.parse

import requests
import requests_unixsocket

sock, kernel, initrd, disk, console = sys.argv[1:6]
session = requests_unixsocket.Session()
base = "http+unix://" + urllib.parse.quote(sock, safe="")


def call(method, path, body=None, want=204):
    r = session.request(method, base + path, json=body, timeout=20)
    if r.status_code != want:
        print(f"FAIL {method} {path}: {r.status_code} {r.text!r} (want {want})")
        sys.exit(1)
    print(f"ok {method} {path}: {r.status_code}")
    return r


for _ in range(100):
    try:
        call("GET", "/", want=200)
        break
    except requests.exceptions.ConnectionError:
        time.sleep(0.1)
else:
    print(f"FAIL no API socket at {sock}")
    sys.exit(1)

call("PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 128})
call("PUT", "/boot-source", {
    "kernel_image_path": kernel, "initrd_path": initrd,
    "boot_args": "console=ttyS0 mmvm.test=idle mmvm.idle=200"})
call("PUT", "/drives/rootfs", {
    "drive_id": "rootfs", "path_on_host": disk,
    "is_root_device": False, "is_read_only": True})
fault = call("PUT", "/machine-config", {"vcpu_count": "two"}, want=400)
msg = fault.json().get("fault_message", "")
if not msg:
    print(f"FAIL 400 without a fault_message: {fault.text!r}")
    sys.exit(1)
print(f"ok fault_message: {msg}")
call("PUT", "/actions", {"action_type": "InstanceStart"})
info = call("GET", "/", want=200).json()
if info.get("state") != "Running" or "vmm_version" not in info:
    print(f"FAIL GET /: {info}")
    sys.exit(1)
print(f"ok instance info: id={info.get('id')} state={info['state']} "
      f"vmm_version={info['vmm_version']}")
mc = call("GET", "/machine-config", want=200).json()
if mc.get("vcpu_count") != 1 or mc.get("mem_size_mib") != 128:
    print(f"FAIL GET /machine-config: {mc}")
    sys.exit(1)

deadline = time.time() + 240
while time.time() < deadline:
    with open(console, "rb") as f:
        if b"MMVM-IDLE start" in f.read():
            break
    time.sleep(0.5)
else:
    print("FAIL the guest's /init did not start")
    sys.exit(1)
call("PATCH", "/vm", {"state": "Paused"})
if call("GET", "/", want=200).json().get("state") != "Paused":
    print("FAIL GET / after the pause")
    sys.exit(1)
call("PATCH", "/vm", {"state": "Resumed"})
call("PUT", "/actions", {"action_type": "SendCtrlAltDel"})
print("fc_client: done")
