"""`impressox agent eval`: how well a model understands traders' messages.

It runs the evaluation sets (`agent.evaluation`: ``development``, what the
offline model is built against, and ``heldout``, written before it and never tuned on)
through the real graph on one model, the configured one (IMPRESSOX_AGENT_MODEL) or
`--model`, alone: no fallback answers in its place. Per set it prints the accuracy,
per intent and per style, and the confusion between intents; then the development
set's misses, each with what was expected and what was made (the held-out set's only
with `--heldout-misses`: reading them is how a set stops being held out). A bad spec or
a provider without its key exits 2 with one line; a provider that cannot be reached
exits 1.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from agent.specs import parse_spec
from events.errors import ImpressoxError
from impressox.cli.common import exit_code, fail, run, settings_from
from impressox.configs import models_config

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agent.evaluation import Evaluation
    from agent.evaluation.dataset import Expectation, Made

app = typer.Typer(help="The agent: evaluate its models.", no_args_is_help=True)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option(help="provider:model to evaluate (default: IMPRESSOX_AGENT_MODEL)."),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option("--set", help="Run one set: development or heldout (default: both)."),
    ] = None,
    heldout_misses: Annotated[
        bool, typer.Option(help="Also list the held-out set's misses (then it is seen).")
    ] = False,
) -> None:
    """Run the evaluation sets on a model; print its accuracy, per intent, the
    confusion between intents, and the misses."""
    # The agent's modules import langchain (~1.5 s): only this command pays for them.
    import agent.toolset  # noqa: F401, PLC0415 - registers the tools the sets expect
    from agent.evaluation import SETS, evaluate  # noqa: PLC0415
    from agent.models import chat_model  # noqa: PLC0415
    from agent.offline.vocabulary import SymbolBook  # noqa: PLC0415

    if only is not None and only not in SETS:
        fail(f"--set {only!r}: one of {', '.join(SETS)}")
    settings = settings_from(ctx)
    spec = model or settings.agent_model
    config = models_config(settings)
    try:
        chat_model(spec, config)  # a bad spec or a missing key: refused before any run
    except ImpressoxError as error:
        fail(str(error), exit_code(error))

    def model_for(symbols: list[str]) -> BaseChatModel:
        return chat_model(spec, config, SymbolBook(symbols))

    results = run(evaluate(model_for, (only,) if only else SETS))
    console = Console()
    for evaluation in results.values():
        _print(console, str(parse_spec(spec)), evaluation, heldout_misses)


def _print(console: Console, spec: str, evaluation: Evaluation, heldout_misses: bool) -> None:
    from agent.evaluation import TARGETS  # noqa: PLC0415 - see eval_command

    count = len(evaluation.judged)
    console.print(
        f"[bold]{spec}[/bold] on the {evaluation.name} set: {evaluation.accuracy:.1%}"
        f" ({evaluation.right} of {count} messages; target {TARGETS[evaluation.name]:.0%})"
    )
    console.print(_rates("intent", evaluation.per_intent))
    console.print(_rates("style", evaluation.per_style))
    if evaluation.confusion:
        confusion = Table("expected", "made instead", "times", title="confusion")
        for (expected, made), times in evaluation.confusion.items():
            confusion.add_row(expected, made, str(times))
        console.print(confusion)
    misses = evaluation.misses
    if not misses:
        return
    if evaluation.name == "heldout" and not heldout_misses:
        console.print(f"{len(misses)} misses, not listed (--heldout-misses lists them).")
        return
    table = Table("message", "expected", "made", title=f"misses ({evaluation.name})")
    for miss in misses:
        table.add_row(miss.says, _expected(miss.expected), _made(miss.made))
    console.print(table)


def _rates(name: str, rates: dict[str, tuple[int, int]]) -> Table:
    table = Table(name, "right", "messages", "accuracy")
    for key, (right, total) in rates.items():
        table.add_row(key, str(right), str(total), f"{right / total:.0%}")
    return table


def _expected(expected: Expectation) -> str:
    return "; ".join(_call(call) for call in expected.calls) or str(expected.reply)


def _made(made: Made) -> str:
    if made.calls:
        return "; ".join(_call(call) for call in made.calls)
    kind = "no tool call" if made.reply in ("reply", "question") else str(made.reply)
    return f"{kind}: {made.text[:80]}" if made.text else kind


def _call(call: tuple[str, dict[str, Any]]) -> str:
    return f"{call[0]}({json.dumps(call[1], default=str)})"
