"""POST /orchestrate: a task in plain words (and optionally a recording) → a plan run by the
user's agents → the report."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from agents.claude_planner import ClaudeOrchestrator
from agents.intents import ChampionRef
from agents.orchestrator import Orchestrator, make_orchestrator
from agents.registry import agents_for
from agents.tools.spec import ToolError
from ingest.validate import UploadRejected, printable_text
from memory.queries import champions as champion_queries
from memory.schemas import UploadAccepted
from web.deps import CurrentUser, ServicesDep, enforce_user_limit, limit_per_user
from web.json_depth import MAX_JSON_DEPTH, json_too_deep
from web.multipart import multipart_request_body
from web.services import Services
from web.uploads import ReceivedUpload, champion_name, receive_form, store_upload

router = APIRouter(tags=["agents"])

MAX_TASK_CHARS = 1000


class PlannedStep(BaseModel):
    """One step of the plan: which agent's tool, and the steps whose results it uses."""

    id: str
    agent: str
    tool: str
    needs: list[str] = []
    round: int | None = None


class StepOutcome(BaseModel):
    """What happened to a step: its arguments as run, status, time, result or error."""

    id: str
    agent: str
    tool: str
    args: dict[str, Any]
    status: str
    seconds: float
    result: Any = None
    error: str | None = None


class OrchestrationReport(BaseModel):
    """The plan, each step's outcome and the answer; ``upload`` when a recording was sent."""

    task: str
    planner: str
    intent: str
    plan: list[PlannedStep]
    steps: list[StepOutcome]
    status: str
    result: Any = None
    error: str | None = None
    seconds: float
    upload: UploadAccepted | None = None


def orchestrator_for(
    services: Services, user_id: str, champions: list[ChampionRef]
) -> Orchestrator | ClaudeOrchestrator:
    """The orchestrator acting for one user over their agents: Claude (Opus, tool use) when
    ``ANTHROPIC_API_KEY`` is set, else the offline intent router.

    Args:
        services: the app's services.
        user_id: the signed-in user.
        champions: the user's champions, oldest first.
    """
    settings = services.settings
    return make_orchestrator(
        agents=agents_for(services.agent_deps(), user_id),
        champions=champions,
        anthropic_api_key=settings.anthropic_api_key,
        model=settings.anthropic_analysis_model,
    )


def _task(fields: dict[str, str]) -> str:
    task = printable_text(fields.get("task", ""))
    if not task:
        raise UploadRejected(422, "form field 'task' is required: say what to do")
    if len(task) > MAX_TASK_CHARS:
        raise UploadRejected(422, f"task must be at most {MAX_TASK_CHARS} characters")
    return task


def _context(fields: dict[str, str]) -> dict[str, Any]:
    raw = fields.get("context", "").strip()
    if not raw:
        return {}
    if json_too_deep(raw):
        raise UploadRejected(422, f"context must nest at most {MAX_JSON_DEPTH} levels deep")
    try:
        context = json.loads(raw)
    except ValueError:
        raise UploadRejected(422, "context must be a JSON object; it is not valid JSON") from None
    if not isinstance(context, dict):
        raise UploadRejected(422, 'context must be a JSON object (e.g. {"champion_id": "..."})')
    return context


def _name(context: dict[str, Any], upload: ReceivedUpload) -> str | None:
    """The champion's name from the context, checked as the form's ``name`` is."""
    if "name" not in context:
        return None
    if not isinstance(context["name"], str):
        raise UploadRejected(422, "context's name must be a string")
    return champion_name(context["name"], upload.display_name)


@router.post(
    "/orchestrate",
    response_model=OrchestrationReport,
    dependencies=[limit_per_user("training")],
    openapi_extra=multipart_request_body(
        {
            "task": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_TASK_CHARS,
                "description": "What to do, in plain words.",
            },
            "context": {
                "type": "object",
                "description": "Extra facts, as a JSON object: champion_id, "
                "name (of an uploaded champion), mode, difficulty.",
                "properties": {
                    "champion_id": {"type": "string"},
                    "name": {"type": "string", "maxLength": 200},
                    "mode": {"type": "string"},
                    "difficulty": {"type": "string"},
                },
            },
            "file": {
                "type": "string",
                "format": "binary",
                "description": "A recording to store and process, as for POST /upload.",
            },
        },
        required=["task"],
        json_fields=("context",),
    ),
)
async def orchestrate(
    request: Request, user: CurrentUser, services: ServicesDep
) -> OrchestrationReport | JSONResponse:
    """Plans a task over the user's agents and runs it; with a file, the recording is stored
    and its ingest queued first, and the plan processes it.

    A file counts against the user's upload limit, as on ``POST /upload``, as soon as its part
    starts: a refused file counts too, and one over the limit is not read on (429).
    """
    try:
        form = await receive_form(
            request,
            media=services.media,
            max_bytes=services.settings.max_upload_bytes,
            on_file=partial(enforce_user_limit, services, "upload", user.id),
        )
    except UploadRejected as exc:
        headers = {"Connection": "close"} if exc.status_code == 413 else None
        return JSONResponse({"detail": exc.message}, exc.status_code, headers=headers)
    upload = form.upload
    try:
        task, context = _task(form.fields), _context(form.fields)
        name = _name(context, upload) if upload is not None else None
    except UploadRejected as exc:
        if upload is not None:
            upload.discard()
        return JSONResponse({"detail": exc.message}, exc.status_code)
    except BaseException:
        if upload is not None:
            upload.discard()
        raise

    accepted: UploadAccepted | None = None
    if upload is not None:
        champion, job = await store_upload(services, owner_id=user.id, received=upload, name=name)
        accepted = UploadAccepted(champion_id=champion.id, job_id=job.id, status="queued")
        context.update(
            champion_id=champion.id,
            job_id=job.id,
            upload={"filename": upload.display_name, "media_kind": upload.info.kind},
        )
    async with services.db.session() as session:
        rows = await champion_queries.champion_names(session, owner_id=user.id)
    orchestrator = orchestrator_for(services, user.id, [ChampionRef(*row) for row in rows])
    try:
        report = await orchestrator.run(task, context)
    except ToolError as exc:
        raise HTTPException(422, exc.message) from exc
    return OrchestrationReport.model_validate({**report, "upload": accepted})
