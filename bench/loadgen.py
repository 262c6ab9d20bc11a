"""A small, fast HTTP/1.1 load generator, run as its own process by ``server_load.py``.

It opens C keep-alive connections to one loopback address, sends a fixed number of the same request
over them (each connection sends its next request when the previous answer is complete: a closed
loop, C requests in flight), and prints one JSON object: requests per second, latency percentiles,
time to first body byte, status counts, and the CPU it used itself.

    python bench/loadgen.py --port 8000 --path /Meta-Llama-3.1-405B-Instruct/chat/completions \\
        --body '{"messages": [...]}' --header 'authorization: Bearer ...' --connections 10 --requests 4000

Bounded twice: it stops after ``--warmup + --requests`` answers or after ``--max-seconds``, whichever
comes first. Parsing uses httptools (the C parser uvicorn uses) and the event loop is uvloop when
installed, so one process drives well over ten thousand small requests a second on one core; run
``server_load.py`` to see its ceiling on your machine (the "null server" row).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from collections import Counter

import httptools


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future | None = None
        self.first_byte = 0
        self.nbytes = 0
        self.keep_body = False
        self.body = bytearray()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"server closed the connection: {exc}"))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.first_byte = 0
        self.nbytes = 0

    def on_body(self, body: bytes) -> None:
        if not self.first_byte:
            self.first_byte = time.perf_counter_ns()
        self.nbytes += len(body)
        if self.keep_body:
            self.body += body

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(
                (self.parser.get_status_code(), self.first_byte, self.nbytes, self.parser.should_keep_alive())
            )


def build_request(args: argparse.Namespace) -> bytes:
    body = args.body.encode() if args.body else b""
    lines = [f"{args.method} {args.path} HTTP/1.1", f"host: 127.0.0.1:{args.port}"]
    lines += args.header
    if body:
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def run(args: argparse.Namespace) -> dict:
    loop = asyncio.get_running_loop()
    request = build_request(args)
    conns: list[Connection] = []
    for _ in range(args.connections):
        _, proto = await loop.create_connection(Connection, args.host, args.port)
        conns.append(proto)
    conns[0].keep_body = True  # keep one answer, to check it is the expected one

    statuses: Counter[int] = Counter()
    latencies: list[int] = []
    ttfb: list[int] = []
    nbytes = 0

    async def phase(count: int, record: bool) -> float:
        left = count

        async def worker(conn: Connection) -> None:
            nonlocal left, nbytes
            while left > 0:
                left -= 1
                fut = loop.create_future()
                conn.waiter = fut
                start = time.perf_counter_ns()
                conn.transport.write(request)
                status, first, size, keep_alive = await fut
                end = time.perf_counter_ns()
                if record:
                    latencies.append(end - start)
                    if first:
                        ttfb.append(first - start)
                    statuses[status] += 1
                    nbytes += size
                if not keep_alive:
                    raise ConnectionError("the server asked to close the connection (no keep-alive)")
                if conn.keep_body:
                    conn.keep_body = False

        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        return time.perf_counter() - started

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    timed_out = False
    seconds = float("nan")

    async def both() -> float:
        nonlocal cpu0
        if args.warmup:
            await phase(args.warmup, record=False)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        return await phase(args.requests, record=True)

    try:
        seconds = await asyncio.wait_for(both(), args.max_seconds)
    except asyncio.TimeoutError:
        timed_out = True
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    for c in conns:
        if c.transport is not None:
            c.transport.close()

    done = len(latencies)
    lat_ms = sorted(x / 1e6 for x in latencies)
    ttfb_ms = sorted(x / 1e6 for x in ttfb)

    def pct(values: list[float], q: float) -> float | None:
        if not values:
            return None
        return values[min(len(values) - 1, max(0, round(q / 100 * len(values) + 0.5) - 1))]

    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    sample = conns[0].body.decode("utf-8", "replace")
    return {
        "connections": args.connections,
        "requests": done,
        "seconds": seconds,
        "timed_out": timed_out,
        "rps": done / seconds if done and seconds == seconds else None,
        "p50_ms": pct(lat_ms, 50),
        "p90_ms": pct(lat_ms, 90),
        "p99_ms": pct(lat_ms, 99),
        "max_ms": lat_ms[-1] if lat_ms else None,
        "ttfb_p50_ms": pct(ttfb_ms, 50),
        "ttfb_p99_ms": pct(ttfb_ms, 99),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "bytes_per_response": nbytes / done if done else None,
        "loadgen_cpu_seconds": cpu,
        "sample": sample[:300],
        "sample_ok": (args.expect in sample) if args.expect else None,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--method", default="POST")
    p.add_argument("--path", required=True)
    p.add_argument("--body", default="", help="request body (JSON text)")
    p.add_argument("--header", action="append", default=[], help="'name: value', repeatable")
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--requests", type=int, default=1000, help="measured requests (fixed count)")
    p.add_argument("--warmup", type=int, default=100, help="requests sent first and not measured")
    p.add_argument("--max-seconds", type=float, default=60, help="hard stop")
    p.add_argument("--expect", default="", help="a substring the answer body must contain")
    p.add_argument("--no-uvloop", action="store_true")
    args = p.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        uvloop = None
    if uvloop is not None and not args.no_uvloop:
        result = uvloop.run(run(args))
        result["event_loop"] = "uvloop"
    else:
        result = asyncio.run(run(args))
        result["event_loop"] = "asyncio"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
