#!/usr/bin/env python3
"""A service manager's notify socket for tests: binds a datagram socket at
argv[1] and prints each message as one JSON line {"t": epoch, "msg": text}."""
import json
import os
import socket
import sys
import time

path = sys.argv[1]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print(json.dumps({"t": time.time(), "msg": "LISTENING"}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"t": time.time(), "msg": data.decode(errors="replace")}), flush=True)
