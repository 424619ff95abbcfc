"""Small pictures drawn on the server as SVG: no script, no style attribute,
so the Content-Security-Policy needs nothing more."""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from ...services.events import Day

WIDTH, HEIGHT, BOTTOM = 600, 160, 20
GOLD, RED = "#8a6508", "#a4161a"


def logins_chart(days: Sequence[Day]) -> Markup:
    """Two bars a day, logins and failures, scaled to the busiest day; every
    bar carries its numbers as a <title> for screen readers and pointers."""
    most = max([1, *(max(d.logins, d.failures) for d in days)])
    slot = WIDTH / max(1, len(days))
    bar = max(1.0, slot / 2 - 1)
    parts = []
    for index, day in enumerate(days):
        x = index * slot
        for offset, value, colour, what in ((0, day.logins, GOLD, "logins"),
                                             (bar, day.failures, RED, "failed attempts")):
            height = (HEIGHT - BOTTOM) * value / most
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{HEIGHT - BOTTOM - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>{day.day.isoformat()}: {value} '
                f'{what}</title></rect>'
            )
    total_logins = sum(d.logins for d in days)
    total_failures = sum(d.failures for d in days)
    label = escape(f"{total_logins} logins and {total_failures} failed attempts in the last "
                   f"{len(days)} days; the most in a day: {most}.")
    first, last = (days[0].day.isoformat(), days[-1].day.isoformat()) if days else ("", "")
    axis = (f'<line x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" stroke="#6b6352"/>'
            f'<text x="0" y="{HEIGHT - 4}" font-size="12" fill="#1d1b16">{first}</text>'
            f'<text x="{WIDTH}" y="{HEIGHT - 4}" font-size="12" fill="#1d1b16" text-anchor="end">{last}</text>')
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}{axis}</svg>'
    )
