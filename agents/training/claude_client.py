"""One Messages API call for the live training engines, with provider-error translation.

The dialogue engine and the turn scorer share one `ClaudeMessages` (one connection pool).
Each call names its own time limit and retry budget: a reply on the audio path must give up
sooner than a score computed beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anthropic
from anthropic.types import MessageParam, ToolParam

from ingest.claude import PROVIDER, CallPolicy, create_message, forced_tool_input
from ingest.provider_errors import ProviderError, with_retries

if TYPE_CHECKING:
    import httpx2

DEFAULT_LIVE_MODEL = "claude-sonnet-4-5"
DEFAULT_BASE_URL = "https://api.anthropic.com"


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
            message = await create_message(
                self._client, model=self.model, policy=policy, system=system, messages=messages
            )
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
        return await forced_tool_input(
            self._client, model=self.model, policy=policy, tool=tool, system=system, prompt=prompt
        )
