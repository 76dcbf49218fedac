"""`impressox agent eval`: how well a model turns traders' messages into tool calls.

It runs the evaluation set (`handlers.agent.evaluation`) through the real graph on one
model, the configured one (IMPRESSOX_AGENT_MODEL) or `--model`, alone: no fallback
answers in its place. It prints the accuracy, then each miss with the call expected and
the call made. A bad spec or a provider without its key exits 2 with one line; a
provider that cannot be reached exits 1.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from events.errors import ImpressoxError
from handlers.agent.specs import parse_spec
from impressox.cli.common import exit_code, fail, run, settings_from

if TYPE_CHECKING:
    from handlers.agent.evaluation import Evaluation

app = typer.Typer(help="The agent: evaluate its models.", no_args_is_help=True)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option(help="provider:model to evaluate (default: IMPRESSOX_AGENT_MODEL)."),
    ] = None,
) -> None:
    """Run the evaluation set on a model; print its accuracy and its misses."""
    # The agent's modules import langchain (~1.5 s): only this command pays for them.
    import handlers.agent.toolset  # noqa: F401, PLC0415 - registers the tools the set expects
    from handlers.agent.evaluation import evaluate  # noqa: PLC0415
    from handlers.agent.models import chat_model  # noqa: PLC0415

    settings = settings_from(ctx)
    spec = model or settings.agent_model
    try:
        chosen = chat_model(spec, settings)
    except ImpressoxError as error:
        fail(str(error), exit_code(error))
    result = run(evaluate(chosen))
    _print(str(parse_spec(spec)), result)


def _print(spec: str, result: Evaluation) -> None:
    from handlers.agent.evaluation import EVALUATION  # noqa: PLC0415 - see eval_command

    console = Console()
    right = len(EVALUATION) - len(result.misses)
    console.print(
        f"[bold]{spec}[/bold]: {result.accuracy:.1%} ({right} of {len(EVALUATION)} messages)"
    )
    if not result.misses:
        return
    expected = {text: (tool, arguments) for text, tool, arguments in EVALUATION}
    table = Table("message", "expected", "made", title="misses")
    for text, made in result.misses:
        table.add_row(text, _call(expected[text]), _call(made) if made else "no tool call")
    console.print(table)


def _call(call: tuple[str, dict[str, Any]]) -> str:
    return f"{call[0]}({json.dumps(call[1])})"
