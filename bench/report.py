"""The one table ``make bench`` prints: a row per measured thing, its floor, the ratio and the verdict."""

from dataclasses import dataclass

COLUMNS = ("what", "figure", "baseline", "ratio", "target", "SQL queries", "verdict")


@dataclass
class Row:
    """One measured thing. ``higher_is_better`` says which way the target points (req/s up, seconds down)."""

    what: str
    figure: float | None = None
    unit: str = ""
    baseline: float | None = None
    target: float | None = None
    higher_is_better: bool = True
    queries: int | None = None
    note: str = ""
    error: str = ""

    @property
    def ratio(self) -> float | None:
        """Figure ÷ baseline (both measured in the same run)."""
        if self.figure is None or not self.baseline:
            return None
        return self.figure / self.baseline

    @property
    def ok(self) -> bool:
        """True unless the row errored or missed its target (a row without a target only reports)."""
        if self.error:
            return False
        if self.target is None:
            return True
        if self.ratio is None:
            return False
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target

    def cells(self) -> tuple[str, ...]:
        """The row's text, column by column."""
        ratio = "—" if self.ratio is None else f"{self.ratio:.2f}×"
        target = "—" if self.target is None else f"{'≥' if self.higher_is_better else '≤'} {self.target:g}×"
        if self.error:
            verdict = f"ERROR: {self.error}"
        elif self.target is None:
            verdict = self.note or "measured (no target)"
        else:
            verdict = ("meets target" if self.ok else "MISSES target") + (f" ({self.note})" if self.note else "")
        return (
            self.what,
            _amount(self.figure, self.unit),
            _amount(self.baseline, self.unit),
            ratio,
            target,
            "—" if self.queries is None else str(self.queries),
            verdict,
        )


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:,.0f} {unit}".strip()


def render(rows: list[Row]) -> str:
    """A markdown table, padded so it also reads well as plain text."""
    lines = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]

    def fmt(cells):
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([fmt(COLUMNS), rule, *(fmt(cells) for cells in lines[1:])])
