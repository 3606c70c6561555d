"""Opens COUNT idle TCP connections to HOST:PORT, each sending 7 bytes (not
a BASP handshake), creates the file OPENED once all are open, and holds them
until the server closes them or HOLD seconds pass. Prints one line: opened=N refused=N closed_by_server=N
still_open=N last_closed_after=S (seconds after the last connection was
opened). Bounded in count and time: a helper of serve_idle_clients.sh."""
import resource
import select
import socket
import sys
import time

host, port, count, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
opened_file = sys.argv[5]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 64)), hard))

socks, refused = [], 0
for _ in range(count):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((host, port))
        s.sendall(b"segflow")
        s.setblocking(False)
        socks.append(s)
    except OSError:
        refused += 1
        s.close()
opened_at = time.monotonic()
open(opened_file, "w").close()
by_fd = {s.fileno(): s for s in socks}
poller = select.poll()
for fd in by_fd:
    poller.register(fd, select.POLLIN)
open_ones, closed, last_closed = set(socks), 0, 0.0
end = opened_at + hold
while open_ones and time.monotonic() < end:
    for fd, _ in poller.poll(200):
        s = by_fd[fd]
        try:
            data = s.recv(65536)
        except ConnectionError:
            data = b""
        except BlockingIOError:
            continue
        if not data:
            closed += 1
            last_closed = time.monotonic() - opened_at
            open_ones.discard(s)
            poller.unregister(fd)
            s.close()
print(f"opened={len(socks)} refused={refused} closed_by_server={closed} "
      f"still_open={len(open_ones)} last_closed_after={last_closed:.1f}", flush=True)
