"""One Messages API call for the live training engines, with provider-error translation.

The dialogue engine and the turn scorer share one `ClaudeMessages` (one connection pool).
Each call names its own time limit and retry budget: a reply on the audio path must give up
sooner than a score computed beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anthropic
from anthropic.types import Message, MessageParam, ToolParam

from memory.provider_errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeout,
    with_retries,
)

if TYPE_CHECKING:
    import httpx2

PROVIDER = "anthropic"
DEFAULT_LIVE_MODEL = "claude-sonnet-4-5"
DEFAULT_BASE_URL = "https://api.anthropic.com"


@dataclass(frozen=True)
class CallPolicy:
    """How one kind of request is made.

    Args:
        max_tokens: the answer's token limit.
        timeout: seconds to wait for one request.
        attempts: how many times a retryable failure is tried in all.
        retry_base_delay: the first backoff delay in seconds.
    """

    max_tokens: int
    timeout: float
    attempts: int
    retry_base_delay: float


class ClaudeMessages:
    """A Messages API client for one model; failures become `ProviderError`s.

    Args:
        api_key: the Anthropic API key.
        model: the model id (Sonnet for live training, from the settings).
        base_url: the API base URL.
        http_client: an ``httpx2.AsyncClient`` for the SDK (tests inject a mock transport).
    """

    name = PROVIDER

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        # Retries are ours (with_retries), so the SDK's own are switched off.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, http_client=http_client, max_retries=0
        )
        self.model = model

    async def text(self, *, system: str, messages: list[MessageParam], policy: CallPolicy) -> str:
        """The text of Claude's answer; an answer cut off at the token limit is kept.

        Raises:
            ProviderError: the request failed after retries, or the answer had no text.
        """

        async def attempt() -> str:
            message = await self._create(policy, system=system, messages=messages)
            text = " ".join(b.text for b in message.content if b.type == "text").strip()
            if not text:
                raise ProviderError(PROVIDER, "the answer had no text", retryable=False)
            return text

        return await with_retries(
            attempt, attempts=policy.attempts, base_delay=policy.retry_base_delay
        )

    async def tool(
        self, *, system: str, prompt: str, tool: ToolParam, policy: CallPolicy
    ) -> dict[str, Any]:
        """The input of the one tool Claude is forced to call (``tool_choice`` names it).

        Raises:
            ProviderError: the request failed after retries, or the answer had no tool call.
        """
        name = tool["name"]

        async def attempt() -> dict[str, Any]:
            message = await self._create(
                policy,
                system=system,
                messages=[{"role": "user", "content": prompt}],
                tools=[tool],
                tool_choice={"type": "tool", "name": name},
            )
            if message.stop_reason == "max_tokens":
                raise ProviderError(PROVIDER, "the answer was cut off", retryable=False)
            for block in message.content:
                if (
                    block.type == "tool_use"
                    and block.name == name
                    and isinstance(block.input, dict)
                ):
                    return block.input
            raise ProviderError(PROVIDER, "the answer had no tool call", retryable=False)

        return await with_retries(
            attempt, attempts=policy.attempts, base_delay=policy.retry_base_delay
        )

    async def _create(self, policy: CallPolicy, **request: Any) -> Message:
        try:
            message = await self._client.messages.create(
                model=self.model, max_tokens=policy.max_tokens, timeout=policy.timeout, **request
            )
        except anthropic.APITimeoutError as exc:
            raise ProviderTimeout(PROVIDER) from exc
        except anthropic.APIConnectionError as exc:
            raise ProviderConnectionError(PROVIDER) from exc
        except anthropic.APIStatusError as exc:
            raise ProviderStatusError(PROVIDER, exc.status_code) from exc
        except anthropic.APIError as exc:  # e.g. an answer that is not a Message
            raise ProviderError(PROVIDER, "unexpected answer", retryable=False) from exc
        if message.stop_reason == "refusal":
            raise ProviderError(PROVIDER, "the model declined to answer", retryable=False)
        return message
