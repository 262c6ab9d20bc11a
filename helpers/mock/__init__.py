"""The replay server: a local stand-in for Azure AI serverless endpoints that replays recordings.

Start it with ``python -m helpers.mock serve``, or from Python::

    from helpers.mock import MockServer
    with MockServer() as mock:
        print(mock.endpoints)
"""

from .app import DEMO_KEY, STAND_IN_ENTRA_TOKEN, MockSettings, ReplayServer, create_app
from .server import MockServer

__all__ = ["DEMO_KEY", "STAND_IN_ENTRA_TOKEN", "MockServer", "MockSettings", "ReplayServer", "create_app"]
