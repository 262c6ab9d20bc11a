"""The replay server's stack with nothing on it: uvicorn (h11 parser, the same event loop) and a one-route
Starlette app that reads the body and answers every request with the same bytes.

``server_load.py`` measures it beside the replay server: it is the ceiling of any server built on this stack in one
process, so it says how much of the replay server's time is its own work and how far the stack itself can go.

    python bench/stack_server.py --port 8002 --body-file answer.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def app_answering(body: bytes) -> Starlette:
    async def answer(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--body-file", type=Path, required=True)
    args = p.parse_args()
    uvicorn.run(
        app_answering(args.body_file.read_bytes()), host="127.0.0.1", port=args.port, http="h11", log_level="warning"
    )


if __name__ == "__main__":
    main()
