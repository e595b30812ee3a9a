"""Chat models by `provider:model` string; `offline` is our deterministic model."""

from __future__ import annotations

import os
from typing import Any

from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel

from agents.offline.model import OfflineChatModel


class ModelConfigError(ValueError):
    """The model spec cannot be loaded (unknown provider, missing package or key)."""


def load_chat_model(
    spec: str,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    offline_token_delay_s: float = 0.0,
    timeout_s: float | None = None,
    max_retries: int | None = None,
) -> BaseChatModel:
    """`"offline"` → OfflineChatModel; `"openai:gpt-4.1-mini"` (or any LangChain provider) otherwise.

    `base_url` points the OpenAI provider at any OpenAI-compatible server (Ollama, vLLM, LM Studio).
    `timeout_s` bounds each read from the provider, so a server that stalls mid-stream fails the turn
    instead of holding it forever; `max_retries` applies before the first byte only (never mid-answer).
    """
    if spec.strip().lower() == "offline":
        return OfflineChatModel(token_delay_s=offline_token_delay_s)
    provider, _, model = spec.partition(":")
    if not model:
        raise ModelConfigError(f"LLM_MODEL must look like 'provider:model' or 'offline', got {spec!r}")
    kwargs: dict[str, Any] = {"streaming": True}
    if timeout_s is not None:
        kwargs["timeout"] = timeout_s
    if max_retries is not None:
        kwargs["max_retries"] = max_retries
    if provider == "openai":
        kwargs["stream_usage"] = True
        if api_key:
            kwargs["api_key"] = api_key
        if base_url:
            kwargs["base_url"] = base_url
            # Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) ignore the key but the client wants one.
            kwargs.setdefault("api_key", os.environ.get("OPENAI_API_KEY") or "not-needed")
    try:
        chat_model: BaseChatModel = init_chat_model(model, model_provider=provider, **kwargs)
    except Exception as exc:  # missing package, unknown provider, missing credentials: all one clear error
        raise ModelConfigError(f"Cannot load model {spec!r}: {exc}") from exc
    return chat_model
