"""Helpers for the Meta Llama on Azure AI cookbook: configuration, clients, stream printing, usage, errors.

Everything here is small on purpose; open the modules and read them.

- ``config``:  ``load_settings()`` reads ``AZURE_INFERENCE_ENDPOINT`` / ``_MODEL`` / ``_CREDENTIAL`` and tells the
               endpoint kind from the URL; ``optional_settings(prefix)`` for a deployment a notebook can do without
- ``auth``:    a key or Microsoft Entra ID (and the offline stand-in credential)
- ``clients``: one factory per integration path, returning the library's own client
- ``streams``: ``print_stream`` for every path's streamed answer
- ``display``: ``show_usage``, and ``answered_by`` (which recording answered, or a live endpoint)
- ``errors``:  ``explain_error`` for the service's error shapes
- ``retry``:   ``with_retries`` for 429/500/503
- ``mock``:    the replay server (``python -m helpers.mock serve``)
- ``offline``: the variables a process needs to run offline (``python -m helpers.mock env`` prints them)
"""

from .clients import (
    async_openai_client,
    azure_async_client,
    azure_client,
    azure_settings,
    langchain_chat,
    langchain_chat_page,
    litellm_params,
    openai_base_url,
    openai_client,
    rest_headers,
    rest_url,
)
from .config import ConfigError, Settings, load_settings, mask, nearest_kind, optional_settings
from .display import Usage, answered_by, show_usage, usage_of
from .errors import ServiceError, explain_error, service_error
from .retry import with_retries, with_retries_async
from .streams import StreamResult, aprint_stream, print_stream

__all__ = [
    "ConfigError",
    "ServiceError",
    "Settings",
    "StreamResult",
    "Usage",
    "answered_by",
    "aprint_stream",
    "async_openai_client",
    "azure_async_client",
    "azure_client",
    "azure_settings",
    "explain_error",
    "langchain_chat",
    "langchain_chat_page",
    "litellm_params",
    "load_settings",
    "mask",
    "nearest_kind",
    "openai_base_url",
    "openai_client",
    "optional_settings",
    "print_stream",
    "rest_headers",
    "rest_url",
    "service_error",
    "show_usage",
    "usage_of",
    "with_retries",
    "with_retries_async",
]
