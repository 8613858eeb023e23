"""The console report: a rich progress bar while checks run, a summary table and the failures after."""

from __future__ import annotations

from collections import defaultdict
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vaultspec.smoke.options import SmokeEvent
from vaultspec.smoke.results import SmokeReport

_REASONS = {"rbac": "RBAC propagation", "throttled": "429 Retry-After", "transient": "a transient error"}


class SmokeProgress:
    """A progress bar fed by `SmokeEvent`s (pass `.on_event` as `SmokeOptions.on_event`)."""

    def __init__(self, console: Console, label: str) -> None:
        self.label = label
        self.failed = 0
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task(label, total=None, note="")

    def __enter__(self) -> SmokeProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()

    def on_event(self, event: SmokeEvent) -> None:
        if event.kind == "planned":
            self._progress.update(self._task, total=event.total)
        elif event.kind == "finished":
            self.failed += event.status == "failed"
            note = f"[red]{self.failed} failed[/red]" if self.failed else ""
            self._progress.update(self._task, advance=1, note=note)
        elif event.kind == "waiting":
            why = _REASONS.get(event.reason, event.reason)
            self._progress.update(self._task, note=f"[yellow]waiting {event.seconds:.1f} s for {why}[/yellow]")


def summary_table(reports: list[SmokeReport]) -> Table:
    table = Table(title="vaultspec smoke", show_lines=False)
    for column, justify in (
        ("vault", "left"),
        ("object", "left"),
        ("passed", "right"),
        ("failed", "right"),
        ("skipped", "right"),
        ("waited", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for report in reports:
        by_object: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for check in report.checks:
            by_object[check.object][check.status] += 1
            by_object[check.object]["waited"] += check.waited
        for obj, counts in by_object.items():
            failed = int(counts["failed"])
            table.add_row(
                escape(report.vault),
                escape(obj),
                str(int(counts["passed"])),
                f"[red]{failed}[/red]" if failed else "0",
                str(int(counts["skipped"])),
                f"{counts['waited']:.1f} s" if counts["waited"] else "",
            )
    return table


def render_summary(reports: list[SmokeReport], console: Console, verbose: bool = False) -> None:
    """Table by object, then every failed check (every check when verbose), then one verdict line."""
    console.print(summary_table(reports))
    for report in reports:
        for check in report.checks:
            if check.status == "failed":
                line = escape(f"{report.vault} {check.object} {check.check}: {check.detail}")
                console.print(f"[red]FAILED[/red] {line}", highlight=False)
            elif verbose:
                colour = "green" if check.status == "passed" else "yellow"
                line = escape(f"{report.vault} {check.object} {check.check}: {check.detail}")
                console.print(f"[{colour}]{check.status.upper()}[/{colour}] {line}", highlight=False)
    total = sum(len(r.checks) for r in reports)
    failed = sum(r.count("failed") for r in reports)
    skipped = sum(r.count("skipped") for r in reports)
    verdict = "[red]smoke failed[/red]" if failed else "[green]smoke passed[/green]"
    console.print(f"{verdict}: {total} checks, {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
