"""A small closed-loop HTTP/1.1 load generator on asyncio raw sockets.

Every request is pre-built as bytes before the clock starts, so the generator only writes, reads
and times. ``concurrency`` connections each send one request, wait for the whole response, then
send the next; connections are kept alive when the server allows it and reopened when it closes
them (gunicorn's sync workers close after every response). Its own CPU time is reported so a run
can show the generator was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import resource
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    index: int
    status: int
    latency_s: float
    body: bytes


@dataclass
class RunStats:
    results: list[Result]
    wall_s: float
    cpu_s: float  # the generator's own user+system CPU time
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> list[Result]:
        return [r for r in self.results if r.status == 200]

    @property
    def rate(self) -> float:
        return len(self.ok) / self.wall_s if self.wall_s else 0.0

    def percentile_ms(self, p: float) -> float:
        lat = sorted(r.latency_s for r in self.results)
        if not lat:
            return float("nan")
        return 1000 * lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]


def build_request(method: str, target: str, host: str, body: bytes = b"",
                  content_type: str = "text/xml") -> bytes:
    head = (f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: huiyi-bench\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, lines[0].startswith("HTTP/1.0")
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            close = value.strip().lower() == "close"
    body = await reader.readexactly(length) if length else b""
    return status, body, close


async def _run(requests: list[bytes], host: str, port: int, concurrency: int, timeout_s: float) -> RunStats:
    results: list[Result] = []
    errors: list[str] = []
    next_index = iter(range(len(requests)))

    async def worker() -> None:
        reader = writer = None
        for i in next_index:
            for attempt in range(2):  # a kept-alive socket the server closed meanwhile: reopen once
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                started = time.perf_counter()
                try:
                    writer.write(requests[i])
                    status, body, close = await asyncio.wait_for(_read_response(reader), timeout_s)
                except (ConnectionError, asyncio.IncompleteReadError) as exc:
                    writer.close()
                    writer = None
                    if attempt:
                        errors.append(f"{i}: {type(exc).__name__}")
                        results.append(Result(i, 0, time.perf_counter() - started, b""))
                    continue
                except TimeoutError:
                    writer.close()
                    writer = None
                    errors.append(f"{i}: timeout")
                    results.append(Result(i, 0, time.perf_counter() - started, b""))
                    break
                results.append(Result(i, status, time.perf_counter() - started, body))
                if close:
                    writer.close()
                    writer = None
                break
        if writer is not None:
            writer.close()

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return RunStats(results=results, wall_s=wall, cpu_s=cpu, errors=errors)


def fire(requests: list[bytes], host: str, port: int, concurrency: int, timeout_s: float = 30.0) -> RunStats:
    """Send every request with ``concurrency`` connections in flight; returns timings and bodies."""
    try:
        import uvloop  # the generator shares the server's cores: a lighter event loop leaves them more
    except ImportError:
        return asyncio.run(_run(requests, host, port, concurrency, timeout_s))
    return uvloop.run(_run(requests, host, port, concurrency, timeout_s))
