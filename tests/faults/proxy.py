"""A round-robin TCP proxy: one address in front of several web hosts, as a load balancer.

Each new client connection goes to the next backend in turn; a backend that refuses the
connection (its host is down) is skipped for the next one, so the client never sees it.
"""

import contextlib
import socket
import threading
from collections import Counter


class RoundRobinProxy:
    def __init__(self, ports: list[int], host: str = "127.0.0.1"):
        self.host = host
        self.ports = list(ports)  # backend i listens on ports[i]
        self.out: set[int] = set()  # backends taken out of the rotation
        self.open: Counter = Counter()  # connections to each backend now open
        self.served: Counter = Counter()  # connections each backend took
        self.refused: Counter = Counter()  # connections each backend refused
        self.lock = threading.Lock()
        self._next = 0
        self.listener = socket.create_server((host, 0))
        self.url = f"http://{host}:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, name="proxy", daemon=True).start()

    def remove(self, index: int) -> None:
        """Take backend `index` out of the rotation (its open connections go on)."""
        with self.lock:
            self.out.add(index)

    def restore(self, index: int, port: int | None = None) -> None:
        """Put backend `index` back in the rotation, on `port` if it moved."""
        with self.lock:
            self.out.discard(index)
            self.ports[index] = port or self.ports[index]

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            taken = self._connect()
            if taken is None:
                return  # no backend took it: the client's connection is closed
            index, upstream = taken
            with upstream:
                pumps = [
                    threading.Thread(target=_pump, args=pair, daemon=True)
                    for pair in ((client, upstream), (upstream, client))
                ]
                for pump in pumps:
                    pump.start()
                for pump in pumps:
                    pump.join()
            with self.lock:
                self.open[index] -= 1

    def _connect(self) -> tuple[int, socket.socket] | None:
        with self.lock:
            first, self._next = self._next, self._next + 1
        for step in range(len(self.ports)):
            index = (first + step) % len(self.ports)
            with self.lock:  # counted open before connecting: a drain waits for it too
                if index in self.out:
                    continue
                self.open[index] += 1
                port = self.ports[index]
            try:
                upstream = socket.create_connection((self.host, port), timeout=2)
            except OSError:
                with self.lock:
                    self.open[index] -= 1
                    self.refused[index] += 1
                continue
            upstream.settimeout(None)
            with self.lock:
                self.served[index] += 1
            return index, upstream
        return None


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy one direction until its end; on a reset, end both so the other pump stops too."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
