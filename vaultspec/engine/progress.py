"""A live view of the engine's steps while `vaultspec up`/`down` runs (rich), one line per resource.

Fed by `RunLog`'s listener from the Automation API's event thread: a step starts (spinner), ends
(action in colour) or fails (red). On a terminal it redraws in place; elsewhere (CI logs) rich prints
only the final table, so logs stay short.
"""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

COLOURS = {
    "create": "green",
    "update": "yellow",
    "replace": "magenta",
    "delete": "red",
    "recovered": "cyan",
    "import": "cyan",
    "same": "dim",
    "failed": "bold red",
}
VISIBLE_ROWS = 24


class StepView:
    """A rich Live table of the steps in flight and done."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self.title = title
        self.rows: dict[str, tuple[str, str]] = {}  # urn -> (phase, action)
        self._lock = threading.Lock()
        self._live = Live(self._render(), console=console, refresh_per_second=8, transient=not console.is_terminal)

    def __enter__(self) -> StepView:
        self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._live.update(self._render())
        self._live.__exit__(kind, error, trace)

    def on_step(self, phase: str, action: str, urn: str) -> None:
        with self._lock:
            if action == "same" and phase == "started":
                return
            self.rows[urn] = (phase, action)
            self._live.update(self._render())

    def _render(self) -> Group:
        table = Table(title=self.title, show_edge=False, pad_edge=False)
        for column in ("", "action", "type", "name"):
            table.add_column(column)
        rows = [(urn, phase, action) for urn, (phase, action) in self.rows.items() if action != "same"]
        for urn, phase, action in rows[-VISIBLE_ROWS:]:
            status = Spinner("dots") if phase == "started" else Text("✓" if phase == "done" else "✗")
            colour = COLOURS.get(action, "white")
            kind = urn.split("::")[2].rsplit("$", 1)[-1].rsplit(":", 1)[-1] if urn.count("::") >= 3 else ""
            table.add_row(status, Text(action, style=colour), kind, urn.rsplit("::", 1)[-1])
        hidden = len(rows) - VISIBLE_ROWS
        footer = Text(f"... and {hidden} more", style="dim") if hidden > 0 else Text("")
        return Group(table, footer)
