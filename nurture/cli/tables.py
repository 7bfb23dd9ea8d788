"""Tables the CLI prints: ids are never cut, whatever the terminal's width.

An id column is as wide as its longest id and never wraps; when the terminal is narrow the other columns fold
their text onto more lines instead of ending in an ellipsis, so nothing printed is lost.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table


class CliTable:
    """Collect rows, then `render()` a rich Table whose `ids` columns keep every id whole."""

    def __init__(
        self, *headers: str, ids: Iterable[str] = (), title: str | None = None, show_header: bool = True
    ) -> None:
        self.headers = headers
        self.ids = frozenset(ids)
        unknown = self.ids - set(headers)
        if unknown:
            raise ValueError(f"id columns {sorted(unknown)} are not among the headers")
        self.title = title
        self.show_header = show_header
        self.rows: list[tuple[str, ...]] = []

    def add_row(self, *cells: str) -> None:
        if len(cells) != len(self.headers):
            raise ValueError(f"{len(cells)} cells for {len(self.headers)} columns")
        self.rows.append(cells)

    def render(self) -> Table:
        table = Table(title=self.title, show_header=self.show_header, title_justify="left")
        for i, header in enumerate(self.headers):
            if header in self.ids:
                widest = max([len(header) if self.show_header else 0, *(len(row[i]) for row in self.rows)])
                table.add_column(header, no_wrap=True, min_width=widest, overflow="fold")
            else:
                table.add_column(header, overflow="fold")
        for row in self.rows:
            table.add_row(*row)
        return table
