"""Charts drawn on the server as SVG markup: no script, nothing fetched, and the page's
Content-Security-Policy untouched (only presentation attributes, no style attributes)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, BAR_GAP, HEIGHT, LABEL_H = 720, 2, 160, 18


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    title: str  # the tooltip: the label and the figure, written out


def bar_chart(bars: list[Bar], caption: str) -> Markup:
    """Vertical bars scaled to the largest, with a tooltip each and the first and last
    labels under the axis."""
    if not bars:
        return Markup("")
    top = max(b.value for b in bars) or 1.0
    step = WIDTH / len(bars)
    width = max(1.0, step - BAR_GAP)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + LABEL_H}" role="img" '
        f'aria-label="{escape(caption)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, bar in enumerate(bars):
        h = max(1.0 if bar.value else 0.0, HEIGHT * bar.value / top)
        parts.append(
            f'<rect class="bar" x="{i * step:.1f}" y="{HEIGHT - h:.1f}" width="{width:.1f}" '
            f'height="{h:.1f}"><title>{escape(bar.title)}</title></rect>'
        )
    y = HEIGHT + LABEL_H - 4
    parts.append(f'<text x="0" y="{y}" class="axis">{escape(bars[0].label)}</text>')
    if len(bars) > 1:
        parts.append(
            f'<text x="{WIDTH}" y="{y}" class="axis" text-anchor="end">'
            f"{escape(bars[-1].label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
