"""Runs one of the seed tutorial's programs, unchanged, on another port than its fixed 8080.

    python3 on_port.py PORT PROGRAM.py

The seed's programs bind or connect to ('localhost', 8080). A fixed port would make tests collide,
so this replaces 8080 with PORT in bind() and connect(). With PORT 0 the OS picks a free port, and
this prints "listening on HOST:PORT" once the program listens, so a test knows where to connect.
"""

import runpy
import socket
import sys

port = int(sys.argv[1])
program = sys.argv[2]

_bind, _connect, _listen = socket.socket.bind, socket.socket.connect, socket.socket.listen


def _moved(address):
    host, seed_port = address[0], address[1]
    return (host, port) if seed_port == 8080 else address


def bind(self, address):
    return _bind(self, _moved(address))


def connect(self, address):
    return _connect(self, _moved(address))


def listen(self, *backlog):
    result = _listen(self, *backlog)
    host, bound_port = self.getsockname()[:2]
    print(f"listening on {host}:{bound_port}", flush=True)
    return result


socket.socket.bind, socket.socket.connect, socket.socket.listen = bind, connect, listen
runpy.run_path(program, run_name="__main__")
