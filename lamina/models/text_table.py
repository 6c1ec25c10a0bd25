"""A small text engine that draws Keras's summary table exactly as ``rich`` does, without the dependency.

A port of the parts of rich that Keras's summary uses: ``Table`` column sizing, ``Text.wrap``,
``Padding``, line cropping to the console width, box drawing, ``…`` truncation and ANSI colours when
writing to a terminal. A style is None (plain) or a (bold, colour-number) pair; each character of a text
carries the run it came from, because rich emits one styled segment per span (adjacent runs are not
merged)."""

from __future__ import annotations

import math
import os
import re
import sys
import unicodedata

_Style = tuple  # (bold: bool, color: int | None)


BOLD: _Style = (True, None)


_COLOR_NUMBER: _Style = (False, 34)


_COLOR_NONE: _Style = (False, 45)


_COLOR_SYMBOL: _Style = (False, 33)


_ELLIPSIS = "…"


class _Run:
    """One styled span; identity marks span boundaries."""

    __slots__ = ("style",)

    def __init__(self, style: _Style | None) -> None:
        self.style = style


def _is_single_cell(text: str) -> bool:
    for ch in text:
        cp = ord(ch)
        if not (
            0x20 <= cp <= 0x7E
            or 0xA0 <= cp <= 0xAC
            or 0xAE <= cp <= 0x2FF
            or 0x370 <= cp <= 0x482
            or 0x2500 <= cp <= 0x25FC
            or 0x2800 <= cp <= 0x28FF
        ):
            return False
    return True


def _char_width(ch: str) -> int:
    cp = ord(ch)
    if cp and cp < 32 or 0x7F <= cp < 0xA0:
        return 0
    if (
        unicodedata.combining(ch)
        or unicodedata.category(ch) in ("Mn", "Me")
        or 0x200B <= cp <= 0x200F
        or 0x1160 <= cp <= 0x11FF
        or cp in (0x2060, 0xFEFF)
    ):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _cell_len(text: str) -> int:
    if _is_single_cell(text):
        return len(text)
    return sum(_char_width(ch) for ch in text)


def _split_cells(text: str, position: int) -> str:
    """The left part of ``text`` cut at cell ``position`` (a wide character cut in half becomes a space)."""
    size = 0
    for i, ch in enumerate(text):
        w = _char_width(ch)
        if size + w > position:
            return text[:i] + (" " if size < position else "")
        size += w
    return text


def _set_cell_size(text: str, total: int) -> str:
    if _is_single_cell(text):
        size = len(text)
        if size < total:
            return text + " " * (total - size)
        return text[:total]
    if total <= 0:
        return ""
    size = _cell_len(text)
    if size == total:
        return text
    if size < total:
        return text + " " * (total - size)
    return _split_cells(text, total)


def _chop_cells(text: str, width: int) -> list[str]:
    if _is_single_cell(text):
        return [text[i : i + width] for i in range(0, len(text), width)]
    lines, line_size, offset = [], 0, 0
    for i, ch in enumerate(text):
        w = _char_width(ch)
        if line_size + w > width:
            lines.append(text[offset:i])
            offset, line_size = i, 0
        line_size += w
    if line_size:
        lines.append(text[offset:])
    return lines


_RE_WORD = re.compile(r"\s*\S+\s*")


_RE_TRAILING_SPACE = re.compile(r"\s+$")


def _divide_line(text: str, width: int, fold: bool) -> list[int]:
    """Offsets where ``text`` breaks into lines of at most ``width`` cells (rich's word wrap)."""
    breaks: list[int] = []
    cell_offset = 0
    for match in _RE_WORD.finditer(text):
        start, word = match.start(), match.group(0)
        word_length = _cell_len(word.rstrip())
        if width - cell_offset >= word_length:
            cell_offset += _cell_len(word)
        elif word_length > width:
            if fold:
                folded = _chop_cells(word, width)
                for i, piece in enumerate(folded):
                    if start:
                        breaks.append(start)
                    if i == len(folded) - 1:
                        cell_offset = _cell_len(piece)
                    else:
                        start += len(piece)
            else:
                if start:
                    breaks.append(start)
                cell_offset = _cell_len(word)
        elif cell_offset and start:
            breaks.append(start)
            cell_offset = _cell_len(word)
    return breaks


class _Text:
    """Plain text plus the run of every character."""

    __slots__ = ("plain", "runs")

    def __init__(self, plain: str = "", runs: list | None = None) -> None:
        self.plain = plain
        self.runs = runs if runs is not None else [None] * len(plain)

    @classmethod
    def of(cls, *parts: tuple[str, _Style | None] | str) -> _Text:
        text = cls()
        for part in parts:
            s, style = (part, None) if isinstance(part, str) else part
            run = _Run(style) if style is not None else None
            text.plain += s
            text.runs += [run] * len(s)
        return text

    def __add__(self, other: _Text) -> _Text:
        return _Text(self.plain + other.plain, self.runs + other.runs)

    def set_plain(self, new: str) -> None:
        if new != self.plain:  # spans keep their offsets: new characters are unstyled
            runs = self.runs[: len(new)]
            self.runs = runs + [None] * (len(new) - len(runs))
            self.plain = new

    def pad_left(self, count: int) -> None:
        if count > 0:
            self.plain = " " * count + self.plain
            self.runs = [None] * count + self.runs

    def pad_right(self, count: int) -> None:
        if count > 0:
            self.plain += " " * count
            self.runs = self.runs + [None] * count

    def rstrip(self) -> None:
        self.set_plain(self.plain.rstrip())

    def rstrip_end(self, size: int) -> None:
        if len(self.plain) > size:
            match = _RE_TRAILING_SPACE.search(self.plain)
            if match is not None:
                crop = min(len(match.group(0)), len(self.plain) - size)
                self.plain, self.runs = self.plain[:-crop], self.runs[:-crop]

    def truncate(self, max_width: int, overflow: str, pad: bool = False) -> None:
        length = _cell_len(self.plain)
        if length > max_width:
            if overflow == "ellipsis":
                self.set_plain(_set_cell_size(self.plain, max_width - 1) + _ELLIPSIS)
            else:
                self.set_plain(_set_cell_size(self.plain, max_width))
        if pad and length < max_width:
            self.pad_right(max_width - length)

    def divide(self, offsets: list[int]) -> list[_Text]:
        bounds = [0, *offsets, len(self.plain)]
        return [_Text(self.plain[a:b], self.runs[a:b]) for a, b in zip(bounds, bounds[1:])]

    def segments(self) -> list[tuple[str, _Style | None]]:
        out: list[tuple[str, _Style | None]] = []
        start = 0
        for i in range(1, len(self.plain) + 1):
            if i == len(self.plain) or self.runs[i] is not self.runs[start]:
                run = self.runs[start]
                out.append((self.plain[start:i], run.style if run is not None else None))
                start = i
        return out

    def wrap(self, width: int, justify: str, overflow: str) -> list[_Text]:
        """Word-wraps like ``rich.text.Text.wrap`` (no_wrap=False)."""
        lines: list[_Text] = []
        pos = 0
        for part in self.plain.split("\n"):
            line = _Text(part, self.runs[pos : pos + len(part)])
            pos += len(part) + 1
            new_lines = line.divide(_divide_line(line.plain, width, fold=overflow == "fold"))
            for new in new_lines:
                new.rstrip_end(width)
            for new in new_lines:
                if justify == "left":
                    new.truncate(width, overflow, pad=True)
                elif justify == "center":
                    new.rstrip()
                    new.truncate(width, overflow)
                    new.pad_left((width - _cell_len(new.plain)) // 2)
                    new.pad_right(width - _cell_len(new.plain))
                elif justify == "right":
                    new.rstrip()
                    new.truncate(width, overflow)
                    new.pad_left(width - _cell_len(new.plain))
            for new in new_lines:
                new.truncate(width, overflow)
            lines.extend(new_lines)
        return lines


_Segment = tuple  # (text, style | None)


_Line = list


def _seg_len(segment: _Segment) -> int:
    return _cell_len(segment[0])


def _adjust_line_length(line: _Line, length: int, style: _Style | None = None, pad: bool = True) -> _Line:
    line_length = sum(_seg_len(s) for s in line)
    if line_length < length:
        return line + [(" " * (length - line_length), style)] if pad else line[:]
    if line_length > length:
        new_line: _Line = []
        size = 0
        for text, seg_style in line:
            seg_length = _cell_len(text)
            if size + seg_length < length:
                new_line.append((text, seg_style))
                size += seg_length
            else:
                new_line.append((_set_cell_size(text, length - size), seg_style))
                break
        return new_line
    return line[:]


def _apply_style(line: _Line, style: _Style | None) -> _Line:
    if not style:
        return line
    out = []
    for text, s in line:
        if s is None:
            out.append((text, style))
        else:
            out.append((text, (style[0] or s[0], s[1] if s[1] is not None else style[1])))
    return out


def _render_text_lines(
    text: _Text, width: int, justify: str, overflow: str, pad: bool, style: _Style | None = None
) -> list[_Line]:
    """``console.render_lines(text)``: wrapped, then each line cropped (and padded) to ``width``."""
    if width < 1:
        return []
    return [_adjust_line_length(line.segments(), width, style, pad) for line in text.wrap(width, justify, overflow)]


def _render_cell(text: _Text, width: int, justify: str, style: _Style | None) -> list[_Line]:
    """A table cell: rich's ``Padding(text, (0, 1))`` rendered at ``width`` then cropped/padded to it."""
    if width < 1:
        return []
    inner = _render_text_lines(text, width - 2, justify, "ellipsis", pad=True)
    lines = [[(" ", None), *line, (" ", None)] for line in inner]
    return [_apply_style(_adjust_line_length(line, width, style, pad=True), style) for line in lines]


_HEAVY_HEAD = ("┏━┳┓", "┃ ┃┃", "┡━╇┩", "│ ││", "├─┼┤", "├─┼┤", "│ ││", "└─┴┘")


_ASCII = ("+--+", "| ||", "|-+|", "| ||", "|-+|", "|-+|", "| ||", "+--+")


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    result = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _column_widths(widths: list[int], table_width: int) -> list[int]:
    """Rendered widths (padding included) of fixed-width columns in a table of ``table_width``."""
    max_width = table_width - (len(widths) + 1)  # minus the borders

    def measure(width: int, limit: int) -> int:
        return 0 if limit < 1 else min(width + 2, limit)

    out = [measure(w, max_width) or 1 for w in widths]
    if sum(out) > max_width:
        out = _ratio_reduce(sum(out) - max_width, [1] * len(out), out, out)
        out = [measure(w, limit) for w, limit in zip(widths, out)]
    elif sum(out) < max_width and sum(out):  # a table with a width expands its columns to fill it
        remaining, ratio_left, extra = max_width - sum(out), sum(out), []
        for w in out:
            share = math.ceil(w * remaining / ratio_left) if ratio_left > 0 else remaining
            extra.append(share)
            ratio_left -= w
            remaining -= share
        out = [w + e for w, e in zip(out, extra)]
    return out


def _render_table(
    headers: list[_Text],
    justify: list[str],
    widths: list[int],
    rows: list[list[_Text]],
    table_width: int,
    ascii_only: bool = False,
) -> list[_Line]:
    """A rich ``Table(show_lines=True, width=table_width)`` with the default heavy-head box."""
    box = _ASCII if ascii_only else _HEAVY_HEAD
    widths = _column_widths(widths, table_width)

    def rule(row: str) -> _Line:
        left, fill, mid, right = row
        return [(left + mid.join(fill * w for w in widths) + right, None)]

    out: list[_Line] = [rule(box[0])]
    all_rows = [headers, *rows]
    for index, cells in enumerate(all_rows):
        header = index == 0
        style = BOLD if header else None
        rendered = [_render_cell(cell, w, j, style) for cell, w, j in zip(cells, widths, justify)]
        height = max(len(lines) for lines in rendered)
        max_height = max(1, height)
        shaped = []
        for lines, w in zip(rendered, widths):
            extra = height - len(lines)
            if extra:
                blank = [[(" " * w, style)]] * extra
                lines = blank + lines[:height] if header else lines[:height] + blank
            lines = [_adjust_line_length(line, w) for line in lines]
            lines += [[(" " * w, None)]] * (max_height - len(lines))
            shaped.append(lines)
        verticals = box[1] if header else (box[6] if index == len(all_rows) - 1 else box[3])
        left, _, divider, right = verticals
        for line_no in range(max_height):
            line: _Line = [(left, None)]
            for i, cell_lines in enumerate(shaped):
                line.extend(cell_lines[line_no])
                if i < len(shaped) - 1:
                    line.append((divider, None))
            line.append((right, None))
            out.append(line)
        if header:
            out.append(rule(box[2]))
        elif index < len(all_rows) - 1:
            out.append(rule(box[4]))
    out.append(rule(box[7]))
    return out


def _is_jupyter() -> bool:
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821
    except NameError:
        return False
    return (
        "google.colab" in str(shell.__class__)
        or bool(os.getenv("DATABRICKS_RUNTIME_VERSION"))
        or shell.__class__.__name__ == "ZMQInteractiveShell"
    )


class _Console:
    """Width, colour system and encoding of the console rich would create for Keras's summary."""

    def __init__(self, capture: bool) -> None:
        env = os.environ
        self.file = sys.stdout
        jupyter = _is_jupyter()
        if capture:
            terminal = False
        elif jupyter:
            terminal = False
        elif env.get("TTY_COMPATIBLE", "") in ("0", "1"):
            terminal = env["TTY_COMPATIBLE"] == "1"
        elif env.get("FORCE_COLOR") is not None:
            terminal = env["FORCE_COLOR"] != ""
        else:
            try:
                terminal = bool(self.file.isatty())
            except (AttributeError, ValueError):
                terminal = False
        dumb = terminal and env.get("TERM", "").lower() in ("dumb", "unknown")
        width = None
        if jupyter:
            cols = env.get("JUPYTER_COLUMNS")
            width = int(cols) if cols is not None and cols.isdigit() else 115
        elif env.get("COLUMNS", "").isdigit():
            width = int(env["COLUMNS"])
        if dumb:
            width = 80
        elif width is None:
            for fd in (0, 1, 2):
                try:
                    width = os.get_terminal_size(fd).columns
                except (AttributeError, ValueError, OSError):
                    continue
                break
            width = width or 80
        self.width = width
        self.color_system: str | None = None
        if not capture:
            if jupyter:
                self.color_system = "truecolor"
            elif terminal and not dumb:
                colorterm = env.get("COLORTERM", "").strip().lower()
                term = env.get("TERM", "").strip().lower().rpartition("-")[2]
                if colorterm in ("truecolor", "24bit"):
                    self.color_system = "truecolor"
                elif term in ("kitty", "256color"):
                    self.color_system = "256"
                else:
                    self.color_system = "standard"
        self.no_color = env.get("NO_COLOR", "") != ""
        encoding = (getattr(self.file, "encoding", "utf-8") or "utf-8").lower()
        self.ascii_only = not encoding.startswith("utf")

    def _codes(self, style: _Style) -> str:
        bold, color = style
        codes = ["1"] if bold else []
        if color is not None and not self.no_color:
            if color < 16:
                codes.append(str(30 + color if color < 8 else 82 + color))
            elif self.color_system == "standard":
                codes.append({33: "94", 34: "32", 45: "96"}.get(color, "37"))
            else:
                codes.append(f"38;5;{color}")
        return ";".join(codes)

    def line_text(self, line: _Line) -> str:
        parts = []
        for text, style in line:
            codes = self._codes(style) if style and self.color_system else ""
            parts.append(f"\x1b[{codes}m{text}\x1b[0m" if codes and text else text)
        return "".join(parts)

    def text_lines(self, text: _Text) -> list[_Line]:
        """``console.print(text)``: folded at the console width."""
        return _render_text_lines(text, self.width, "default", "fold", pad=False)

    def render(self, lines: list[_Line]) -> str:
        return "".join(self.line_text(_adjust_line_length(line, self.width, pad=False)) + "\n" for line in lines)
