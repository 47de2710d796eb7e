"""One self-contained HTML page: every image is embedded as a base64 data URI, so the file
can be mailed, archived and opened offline."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nolabel._atomic import atomic_write

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
th { background: #f4f4f4; } td.number { text-align: right; font-family: monospace; }
figure { margin: 0.5em 0; } img { max-width: 100%; border: 1px solid #eee; }
img.grid { min-width: 480px; image-rendering: pixelated; }
figcaption, .note { color: #666; font-size: 0.85em; }
"""


@dataclass(frozen=True)
class Section:
    title: str
    body: str  # HTML


def data_uri(png: str | Path | bytes) -> str:
    data = png if isinstance(png, bytes) else Path(png).read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure(png: str | Path, alt: str, caption: str = "", grid: bool = False) -> str:
    """``grid``: a tiling of small images, shown larger with sharp pixels."""
    note = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    css = ' class="grid"' if grid else ""
    return f'<figure><img{css} src="{data_uri(png)}" alt="{html.escape(alt)}">{note}</figure>'


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f'<td class="number">{value:.4g}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="number">{value}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def table(rows: Sequence[Sequence[Any]], header: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table>{f'<tr>{head}</tr>' if head else ''}{body}</table>"


def paragraph(text: str, css_class: str = "") -> str:
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{html.escape(text)}</p>"


def render(title: str, sections: Sequence[Section], subtitle: str = "") -> str:
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if subtitle:
        parts.append(paragraph(subtitle, "note"))
    parts += [f"<section><h2>{html.escape(s.title)}</h2>{s.body}</section>" for s in sections]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(parts)}</body></html>\n")


def write_html(path: str | Path, title: str, sections: Sequence[Section],
               subtitle: str = "") -> Path:
    with atomic_write(path) as handle:
        handle.write(render(title, sections, subtitle).encode("utf-8"))
    return Path(path)
