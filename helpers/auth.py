"""Authentication: a key, or Microsoft Entra ID.

Serverless endpoints (the page's) take keys only. Foundry resources and managed compute endpoints also take Entra ID
tokens, each for its own scope (``ENTRA_SCOPES``); the real code path uses ``DefaultAzureCredential``.

Offline there is no Entra ID to ask, so against the local replay server ``entra_credential()``
returns ``StandInEntraCredential``: a fake that hands out a fixed token the replay server accepts
for its managed deployment. It is labeled as such wherever it is used, and never used for a real endpoint.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable

from azure.core.credentials import AccessToken, AzureKeyCredential
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy

from .config import Settings
from .constants import ENTRA_SCOPES, STAND_IN_ENTRA_TOKEN

ENTRA_SCOPE = ENTRA_SCOPES["managed"]  # managed compute


def entra_scope(settings: Settings) -> str:
    """The token scope for ``settings``' endpoint kind."""
    return ENTRA_SCOPES.get(settings.kind, ENTRA_SCOPE)


class StandInEntraCredential:
    """OFFLINE STAND-IN for ``DefaultAzureCredential``: returns a fixed token only the replay server accepts."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(STAND_IN_ENTRA_TOKEN, int(time.time()) + 3600)

    async def __aenter__(self) -> "StandInEntraCredential":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def close(self) -> None:
        return None


class LoopbackBearerPolicy(SansIOHTTPPolicy):
    """Adds ``Authorization: Bearer <token>`` over plain http to 127.0.0.1.

    azure-core's own ``BearerTokenCredentialPolicy`` refuses tokens over non-https URLs, which is
    right for Azure and wrong for a replay server on loopback. Used only with the stand-in credential.
    """

    def __init__(self, credential: StandInEntraCredential) -> None:
        self._credential = credential

    def on_request(self, request: PipelineRequest) -> None:
        request.http_request.headers["Authorization"] = f"Bearer {self._credential.get_token('stand-in').token}"


def entra_credential(settings: Settings, use_async: bool = False) -> Any:
    """``DefaultAzureCredential`` for a real endpoint; the labeled stand-in for the local replay server."""
    if settings.is_local:
        return StandInEntraCredential()
    if use_async:
        from azure.identity.aio import DefaultAzureCredential as AsyncDefaultAzureCredential

        return AsyncDefaultAzureCredential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def sdk_credential(settings: Settings, use_async: bool = False) -> Any:
    """The ``credential=`` argument for ``ChatCompletionsClient``: a key credential or an Entra ID credential."""
    if settings.auth == "key":
        return AzureKeyCredential(settings.credential)
    return entra_credential(settings, use_async)


# one credential per deployment: DefaultAzureCredential then asks Entra ID (or runs `az`) only when the token runs out
@functools.cache
def bearer_token_provider(settings: Settings) -> Callable[[], str]:
    """A function returning the current secret for ``Authorization: Bearer``: the key, or a valid Entra ID token
    (``get_bearer_token_provider`` keeps the token and renews it shortly before it expires)."""
    if settings.auth == "key":
        return lambda: settings.credential
    credential = entra_credential(settings)
    if isinstance(credential, StandInEntraCredential):
        return lambda: credential.get_token(entra_scope(settings)).token
    from azure.identity import get_bearer_token_provider

    return get_bearer_token_provider(credential, entra_scope(settings))
