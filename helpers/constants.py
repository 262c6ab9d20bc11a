"""Constants shared by the helpers and the replay server, in a module that imports nothing.

``helpers.config`` and ``helpers.auth`` need them in every notebook kernel; taking them from
``helpers.mock.app`` would import the replay server (starlette, uvicorn) there too.
"""

DEMO_KEY = "demo-key-for-the-local-mock-0000"  # 32 characters, like a real key; accepted only by the replay server
STAND_IN_ENTRA_TOKEN = "stand-in-entra-token-for-the-local-mock"  # see helpers.auth.StandInEntraCredential
API_VERSION = "2024-05-01-preview"  # the page's Azure AI Model Inference API version (retired with the API on 2026-08-26)
