"""A do-nothing HTTP/1.1 server: answers every request with the same bytes, as fast as Python can.

``server_load.py`` drives it with ``loadgen.py`` to measure the load generator's own ceiling on this
machine: if the replay server's numbers came close to it, the load generator would be the bottleneck.

    python bench/null_server.py --port 8001 --body-file answer.json
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import httptools


class NullProtocol(asyncio.Protocol):
    response = b""

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.transport.write(self.response)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(NullProtocol, "127.0.0.1", port, backlog=2048)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--body-file", type=Path, required=True)
    p.add_argument("--content-type", default="application/json")
    args = p.parse_args()
    body = args.body_file.read_bytes()
    NullProtocol.response = (
        f"HTTP/1.1 200 OK\r\ncontent-type: {args.content_type}\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body
    )
    try:
        import uvloop

        uvloop.run(serve(args.port))
    except ImportError:
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
