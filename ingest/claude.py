"""Claude's Messages API at our edge: SDK failures become `ProviderError`s.

The ingest analysis and the live training engines both call Claude this way. Each keeps its
own client, model and limits (time limit, token limit, retry budget) and passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anthropic
from anthropic.types import Message, ToolParam

from ingest.provider_errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeout,
    retry_after_seconds,
    with_retries,
)

PROVIDER = "anthropic"


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


async def create_message(
    client: anthropic.AsyncAnthropic, *, model: str, policy: CallPolicy, **request: Any
) -> Message:
    """Sends one Messages API request, translating the SDK's failures (no retries).

    Args:
        client: the SDK client (with its own retries switched off: ours are `with_retries`).
        model: the model id.
        policy: the token limit and time limit of the request.
        **request: the rest of the arguments of ``messages.create`` (``system``,
            ``messages``, ...).

    Returns:
        Claude's answer; one cut off at the token limit is returned as it is.

    Raises:
        ProviderTimeout: the request timed out.
        ProviderConnectionError: the API could not be reached.
        ProviderStatusError: the API answered with an error status.
        ProviderError: the answer was not a message, or the model declined to answer.
    """
    try:
        message = await client.messages.create(
            model=model, max_tokens=policy.max_tokens, timeout=policy.timeout, **request
        )
    except anthropic.APITimeoutError as exc:
        raise ProviderTimeout(PROVIDER) from exc
    except anthropic.APIConnectionError as exc:
        raise ProviderConnectionError(PROVIDER) from exc
    except anthropic.APIStatusError as exc:
        raise ProviderStatusError(
            PROVIDER, exc.status_code, retry_after=retry_after_seconds(exc.response.headers)
        ) from exc
    except anthropic.APIError as exc:  # e.g. an answer that is not a Message
        raise ProviderError(PROVIDER, "unexpected answer", retryable=False) from exc
    if message.stop_reason == "refusal":
        raise ProviderError(PROVIDER, "the model declined to answer", retryable=False)
    return message


async def forced_tool_input(
    client: anthropic.AsyncAnthropic,
    *,
    model: str,
    policy: CallPolicy,
    tool: ToolParam,
    system: str,
    prompt: str,
) -> dict[str, Any]:
    """The input of ``tool``, which ``tool_choice`` forces Claude to call.

    Args:
        client: the SDK client.
        model: the model id.
        policy: the request's limits and retry budget.
        tool: the one tool offered; its input schema is the shape of the answer.
        system: the system prompt.
        prompt: the user message.

    Returns:
        The tool's input.

    Raises:
        ProviderError: the request failed after retries, the answer was cut off at the token
            limit, or it had no call of the tool.
    """
    name = tool["name"]

    async def attempt() -> dict[str, Any]:
        message = await create_message(
            client,
            model=model,
            policy=policy,
            system=system,
            messages=[{"role": "user", "content": prompt}],
            tools=[tool],
            tool_choice={"type": "tool", "name": name},
        )
        if message.stop_reason == "max_tokens":
            raise ProviderError(PROVIDER, "the answer was cut off", retryable=False)
        for block in message.content:
            if block.type == "tool_use" and block.name == name and isinstance(block.input, dict):
                return block.input
        raise ProviderError(PROVIDER, "the answer had no tool call", retryable=False)

    return await with_retries(attempt, attempts=policy.attempts, base_delay=policy.retry_base_delay)
