"""The results as rich tables on the terminal and as JSON on disk."""

import dataclasses
import json
import math
import statistics
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.machine import header
from bench.result import OK, Result, Verdict


def write_json(path: Path, quick: bool, machine: dict[str, object], results: list[Result]) -> None:
    payload = {"quick": quick, "machine": machine, "results": [dataclasses.asdict(result) for result in results]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def render(console: Console, quick: bool, machine: dict[str, object], results: list[Result]) -> None:
    console.print(f"[bold]imgopt bench{' --quick' if quick else ''}[/bold]  {header(machine)}")
    for result in results:
        if result.status == OK:
            console.print(_detail(result))
        else:
            console.print(f"[bold]{result.name}[/bold]: {result.title} — [yellow]{result.status}[/yellow]")
        for note in result.notes:
            console.print(f"  [dim]{note}[/dim]")
    console.print(_summary(results))


def _detail(result: Result) -> Table:
    table = Table(title=f"[bold]{result.name}[/bold]: {result.title}", title_justify="left")
    metrics = list(dict.fromkeys(measure.metric for measure in result.measures if measure.value is not None))
    table.add_column("subject")
    for metric in metrics:
        table.add_column(metric, justify="right")
    table.add_column(f"{metrics[0]} spread" if metrics else "spread", justify="right")
    table.add_column("note")
    for subject in dict.fromkeys(measure.subject for measure in result.measures):
        mine = {measure.metric: measure for measure in result.measures if measure.subject == subject}
        cells = [_number(mine[metric].value) if metric in mine else "" for metric in metrics]
        first = next(iter(mine.values()))
        notes = "; ".join(measure.note for measure in mine.values() if measure.note)
        table.add_row(subject, *cells, _spread(first.samples), notes)
    return table


def _summary(results: list[Result]) -> Table:
    table = Table(title="[bold]Ratios and goals[/bold]", title_justify="left")
    for name, justify in (("measurement", "left"), ("comparison", "left"), ("value", "right"), ("goal", "right")):
        table.add_column(name, justify=justify)
    table.add_column("verdict")
    for result in results:
        if result.status != OK:
            table.add_row(result.name, f"[yellow]{result.status}[/yellow]", "", "", _first_line(result.notes))
            continue
        for verdict in result.verdicts:
            goal = f"{verdict.goal}{'x' if verdict.unit == 'x' else ' ' + verdict.unit}" if verdict.goal else ""
            table.add_row(result.name, verdict.label, _value(verdict), goal, _verdict(verdict))
    return table


def _verdict(verdict: Verdict) -> str:
    if verdict.value is None:
        return f"[yellow]{verdict.note or 'no value'}[/yellow]"
    if verdict.goal is None:
        return f"[dim]{verdict.note or 'for reference'}[/dim]"
    colour = "green" if verdict.met else "red"
    return f"[{colour}]{verdict.goal.describe(verdict.value)}[/{colour}]"


def _value(verdict: Verdict) -> str:
    if verdict.value is None:
        return "n/a"
    if verdict.unit == "x":
        text = f"{verdict.value:.4f}x" if abs(verdict.value - 1) < 0.01 else f"{verdict.value:.3f}x"
    else:
        text = f"{_number(verdict.value)} {verdict.unit}"
    return text + (f" {_spread(verdict.samples)}" if len(verdict.samples) > 1 else "")


def _number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def _spread(samples: list[float]) -> str:
    """Half the range of the samples around their median, so noisy figures look noisy."""
    if len(samples) < 2:
        return ""
    middle = statistics.median(samples)
    return f"±{(max(samples) - min(samples)) / 2 / middle:.0%}" if middle else ""


def _first_line(notes: list[str]) -> str:
    return notes[0].splitlines()[0] if notes else ""
