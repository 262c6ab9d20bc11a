"""Constants shared by the helpers and the replay server, in a module that imports nothing.

``helpers.config`` and ``helpers.auth`` need them in every notebook kernel; taking them from
``helpers.mock.app`` would import the replay server (starlette, uvicorn) there too.
"""

DEMO_KEY = "demo-key-for-the-local-mock-0000"  # 32 characters, like a real key; accepted only by the replay server
STAND_IN_ENTRA_TOKEN = "stand-in-entra-token-for-the-local-mock"  # see helpers.auth.StandInEntraCredential
API_VERSION = (
    "2024-05-01-preview"  # the page's Azure AI Model Inference API version (retired with the API on 2026-08-26)
)
# The Microsoft Entra ID token scope of each endpoint kind. openai-v1: the migration guide's ("Migrate from Azure AI
# Inference SDK to OpenAI SDK", 2026-03-19; many samples use https://cognitiveservices.azure.com/.default, the scope of
# its older revisions); foundry-models: the same guide's Azure AI Inference code; managed: Azure Machine Learning's.
ENTRA_SCOPES = {
    "openai-v1": "https://ai.azure.com/.default",
    "foundry-models": "https://cognitiveservices.azure.com/.default",
    "managed": "https://ml.azure.com/.default",
}
