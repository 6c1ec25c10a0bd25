"""``model.summary()``: the Keras 3 summary table, drawn without ``rich``.

Keras renders its summary with ``rich``; Lamina draws the same table itself so the text is
identical character for character (box drawing, column widths, word wrapping, ``…`` truncation,
thousands separators, byte sizes, and ANSI colours when printing to a terminal) without the
dependency. The small text engine below follows rich's algorithms (``Table`` column sizing,
``Text.wrap``, ``Padding``, line cropping to the console width).

Beyond Keras, ``show_flops=True`` adds a multiply-accumulate column and ``show_memory=True`` an
activation-memory column; both are off by default so the default output stays Keras's.

Example:
    >>> import lamina
    >>> from lamina import layers
    >>> model = lamina.Sequential([lamina.Input(shape=(4,)), layers.Dense(2, name="dense")], name="tiny")
    >>> lines = []
    >>> model.summary(print_fn=lines.append, line_length=60)
    >>> print(lines[0], end="")
    Model: "tiny"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓
    ┃ Layer (type)             ┃ Output Shape      ┃   Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩
    │ dense (Dense)            │ (None, 2)         │        10 │
    └──────────────────────────┴───────────────────┴───────────┘
     Total params: 10 (40.00 B)
     Trainable params: 10 (40.00 B)
     Non-trainable params: 0 (0.00 B)
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from lamina import backend
from lamina.backend.config import is_interactive_logging_enabled
from lamina.backend.io_utils import print_msg
from lamina.layers.layer import Layer
from lamina.models.sequential import Sequential

# ---------------------------------------------------------------------------------------------------------------
# Sizes and counts
# ---------------------------------------------------------------------------------------------------------------

_DTYPE_BITS = {
    **{f"float{i}": i for i in (16, 32, 64)},
    **{f"int{i}": i for i in (8, 16, 32, 64)},
    **{f"uint{i}": i for i in (8, 16, 32, 64)},
    "bfloat16": 16,
    "bool": 1,
}


def _dtype_bits(dtype: Any) -> int:
    name = backend.standardize_dtype(dtype)
    if name in _DTYPE_BITS:
        return _DTYPE_BITS[name]
    return backend.torch_dtype(name).itemsize * 8


def count_params(weights: Iterable[Any]) -> int:
    """Number of scalars in ``weights``."""
    return int(sum(math.prod(v.shape) for v in weights))


def weight_memory_size(weights: Iterable[Any]) -> float:
    """Bytes taken by ``weights`` (each counted once), from each variable's dtype as Keras does."""
    unique = {id(w): w for w in weights}.values()
    return sum(math.prod(w.shape) * _dtype_bits(w.dtype) for w in unique) / 8


def readable_memory_size(weight_memory_size: float) -> str:
    """Formats a byte count as Keras does: ``132.00 B``, ``191.41 KB``, ``1.50 MB``.

    Example:
        >>> from lamina.models.summary import readable_memory_size
        >>> readable_memory_size(132), readable_memory_size(196008)
        ('132.00 B', '191.41 KB')
    """
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if weight_memory_size / 1024 < 1:
            return f"{weight_memory_size:.2f} {unit}"
        weight_memory_size /= 1024
    return f"{weight_memory_size:.2f} {units[-1]}"


# ---------------------------------------------------------------------------------------------------------------
# Text engine: a port of the parts of rich that Keras's summary uses.
# A style is None (plain) or a (bold, colour-number) pair. Each character of a text carries the run
# it came from, because rich emits one styled segment per span (adjacent runs are not merged).
# ---------------------------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------------------------
# Console: where the text goes, its width, and whether it gets ANSI styles (rich's detection rules).
# ---------------------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------------------
# Model inspection
# ---------------------------------------------------------------------------------------------------------------


def _mro_names(obj: Any) -> set[str]:
    return {c.__name__ for c in type(obj).__mro__}


def _is_functional(model: Any) -> bool:
    return "Functional" in _mro_names(model) and "Sequential" not in _mro_names(model)


def _node_parents(node: Any) -> list[Any]:
    parents = []
    for t in node.input_tensors:
        history = getattr(t, "_keras_history", None)
        if history is not None:
            layer, node_index, _ = history
            parents.append(layer._inbound_nodes[node_index])
    return parents


def _map_graph(inputs: list[Any], outputs: list[Any]) -> tuple[dict[int, list[Any]], list[Any]]:
    """Nodes by depth and operations in Keras's order (a port of ``keras.src.ops.function.map_graph``)."""
    finished: set[int] = set()
    in_progress: set[int] = set()
    ordered: list[Any] = []
    op_index: dict[int, int] = {}
    ops_by_id: dict[int, Any] = {}
    input_ids = {id(t) for t in inputs}

    def visit(tensor: Any) -> None:
        history = getattr(tensor, "_keras_history", None)
        if history is None:
            return
        op, node_index, _ = history
        node = op._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if not node.is_input and id(tensor) in input_ids:
            finished.add(id(node))
            return
        if id(node) in in_progress:
            raise ValueError(f"Tensor {tensor} from operation '{op.name}' is part of a cycle.")
        if id(op) not in op_index:
            op_index[id(op)] = len(op_index)
            ops_by_id[id(op)] = op
        in_progress.add(id(node))
        if not node.is_input:
            for t in node.input_tensors:
                visit(t)
        finished.add(id(node))
        in_progress.discard(id(node))
        ordered.append(node)

    for output in outputs:
        visit(output)
    in_graph = {id(n) for n in ordered}
    node_depth: dict[int, int] = {}
    nodes_by_id = {id(n): n for n in ordered}
    op_depth: dict[int, int] = {}
    for node in reversed(ordered):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, op_depth.get(id(node.operation), 0))
        op_depth[id(node.operation)] = depth
        node_depth[id(node)] = depth
        for parent in _node_parents(node):
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:
        history = getattr(t, "_keras_history", None)
        if history is not None and id(history[0]) not in op_depth:
            node = history[0]._inbound_nodes[history[1]]
            if node.is_input:
                op_depth[id(history[0])] = 0
                op_index[id(history[0])] = -1
                ops_by_id[id(history[0])] = history[0]
                node_depth[id(node)] = 0
                nodes_by_id[id(node)] = node
    nodes_by_depth: dict[int, list[Any]] = defaultdict(list)
    for nid, depth in node_depth.items():
        nodes_by_depth[depth].append(nodes_by_id[nid])
    ops_by_depth: dict[int, list[Any]] = defaultdict(list)
    for oid, depth in op_depth.items():
        ops_by_depth[depth].append(ops_by_id[oid])
    operations = []
    for depth in sorted(ops_by_depth, reverse=True):
        operations.extend(sorted(ops_by_depth[depth], key=lambda op: op_index[id(op)]))
    return dict(nodes_by_depth), operations


def _graph(model: Any) -> tuple[dict[int, list[Any]], list[Any]]:
    nodes_by_depth = getattr(model, "_nodes_by_depth", None)
    operations = getattr(model, "_operations", None)
    if nodes_by_depth is not None and operations is not None:
        return dict(nodes_by_depth), list(operations)
    return _map_graph(list(model.inputs or []), list(model.outputs or []))


def _shape_text(shape: Any) -> _Text:
    parts: list[Any] = ["("]
    for i, d in enumerate(shape):
        if i:
            parts.append(", ")
        parts.append((str(d), _COLOR_NONE if d is None else _COLOR_NUMBER))
    parts.append(")")
    return _Text.of(*parts)


def _structure_text(structure: Any) -> _Text:
    """Keras prints ``str()`` of the structure of formatted shapes with the quotes removed."""
    if isinstance(structure, _Text):
        return structure
    if isinstance(structure, dict):
        text = _Text.of("{")
        for i, (k, v) in enumerate(structure.items()):
            text = text + _Text.of((", " if i else "") + str(k).replace("'", "") + ": ") + _structure_text(v)
        return text + _Text.of("}")
    opening, closing = ("[", "]") if isinstance(structure, list) else ("(", ")")
    text = _Text.of(opening)
    for i, v in enumerate(structure):
        text = text + _Text.of(", " if i else "") + _structure_text(v)
    if isinstance(structure, tuple) and len(structure) == 1:
        text = text + _Text.of(",")
    return text + _Text.of(closing)


def _is_shape(s: Any) -> bool:
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)


def _map_shapes(fn: Callable[[Any], Any], structure: Any) -> Any:
    if _is_shape(structure):
        return fn(tuple(structure))
    if isinstance(structure, dict):
        return {k: _map_shapes(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_shapes(fn, s) for s in structure)
    return fn(structure)


def _flat(structure: Any) -> list[Any]:
    if isinstance(structure, dict):
        return [x for v in structure.values() for x in _flat(v)]
    if isinstance(structure, (list, tuple)):
        return [x for v in structure for x in _flat(v)]
    return [structure]


def _build_arg(shapes: Any) -> Any:
    if isinstance(shapes, tuple) and len(shapes) == 1 and isinstance(shapes[0], (tuple, list)):
        return shapes[0]
    return shapes


def _output_shapes(layer: Any) -> Any:
    """The layer's output shape structure (tuples), or None when unknown."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if nodes:
        outputs = nodes[-1].outputs
        shapes = [tuple(t.shape) for t in outputs]
        return shapes[0] if len(shapes) == 1 else shapes
    if getattr(layer, "_build_shapes", None) is None:
        return None
    try:
        try:
            return layer.output_shape
        except AttributeError:
            pass
        return layer.compute_output_shape(_build_arg(layer._build_shapes))
    except NotImplementedError:
        return None


def _format_layer_shape(layer: Any) -> _Text:
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if not nodes and getattr(layer, "_build_shapes", None) is None:
        return _Text.of("?")
    if nodes:
        outputs = nodes[-1].outputs
        formatted: Any = [_shape_text(t.shape) for t in outputs]
        if len(formatted) == 1:
            return formatted[0]
        return _structure_text(formatted)
    try:
        try:
            shapes = layer.output_shape
        except AttributeError:
            shapes = layer.compute_output_shape(_build_arg(layer._build_shapes))
    except NotImplementedError:
        return _Text.of("?")
    formatted = _map_shapes(_shape_text, shapes)
    flat = _flat(formatted)
    if len(flat) == 1:
        return flat[0]
    return _structure_text(formatted)


def get_layer_index_bound_by_layer_name(layers: list[Any], layer_range: Any = None) -> list[int]:
    """``[first, last + 1]`` indices of the layers matched by ``layer_range`` (two names or regexes)."""
    if layer_range is None:
        return [0, len(layers)]
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}"
        )
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"Passed layer_names do not match the layer names in the model. Received: {layer_range}")
    if min(lower) > max(upper):
        return [min(upper), max(lower) + 1]
    return [min(lower), max(upper) + 1]


# ---------------------------------------------------------------------------------------------------------------
# Multiply-accumulate and activation-memory estimates
# ---------------------------------------------------------------------------------------------------------------


def _known(shape: Any) -> tuple[int, ...]:
    return tuple(1 if d is None else int(d) for d in shape)


def _layer_io_shapes(layer: Any) -> tuple[list[tuple], list[tuple]] | None:
    """(input shapes, output shapes) of the layer's last recorded call, or None."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if nodes:
        node = nodes[-1]
        return [tuple(t.shape) for t in node.input_tensors], [tuple(t.shape) for t in node.outputs]
    shapes = getattr(layer, "_build_shapes", None)
    if shapes is None:
        return None
    ins = [tuple(s) for s in _flat_shapes(shapes)]
    out = _output_shapes(layer)
    outs = [] if out is None else [tuple(s) for s in _flat_shapes(out)]
    return ins, outs


def _flat_shapes(structure: Any) -> list[Any]:
    if _is_shape(structure):
        return [structure]
    if isinstance(structure, dict):
        return [s for v in structure.values() for s in _flat_shapes(v)]
    if isinstance(structure, (list, tuple)):
        return [s for v in structure for s in _flat_shapes(v)]
    return []


def _weight_shape(layer: Any, name: str) -> tuple[int, ...] | None:
    w = getattr(layer, name, None)
    shape = getattr(w, "shape", None)
    return None if shape is None else tuple(int(d) for d in shape)


def _einsum_macs(equation: str, in_shape: tuple, kernel: tuple) -> int:
    lhs = equation.split("->")[0]
    a, k = lhs.split(",")
    if "..." in a:
        n = len(in_shape) - (len(a) - 3)
        a = a.replace("...", "".join(chr(0x3B1 + i) for i in range(n)))
    sizes: dict[str, int] = {}
    for letter, d in zip(a, _known(in_shape)):
        sizes[letter] = d
    for letter, d in zip(k.replace("...", ""), kernel):
        sizes.setdefault(letter, d)
    return math.prod(sizes.values())


def _sublayers(layer: Any) -> list[Any]:
    if hasattr(layer, "_sublayers"):
        return [s for s in layer._sublayers() if type(s).__name__ != "InputLayer"]
    return []


def layer_macs(
    layer: Any, input_shapes: list[tuple] | None = None, output_shapes: list[tuple] | None = None
) -> int | None:
    """Multiply-accumulates of one call of ``layer`` (None when its shapes are unknown).

    Shapes default to the layer's last recorded call; unknown sizes (``None``) count as 1.
    See :func:`estimate_flops` for what is counted.
    """
    if input_shapes is None or output_shapes is None:
        io = _layer_io_shapes(layer)
        if io is None:
            return None
        input_shapes, output_shapes = io
    names = _mro_names(layer)
    out = math.prod(_known(output_shapes[0])) if output_shapes else 0
    inp = math.prod(_known(input_shapes[0])) if input_shapes else 0
    kernel = _weight_shape(layer, "kernel")
    if "EinsumDense" in names and kernel is not None and input_shapes:
        return _einsum_macs(layer.equation, input_shapes[0], kernel)
    if _weight_shape(layer, "depthwise_kernel") and _weight_shape(layer, "pointwise_kernel"):
        dw, pw = _weight_shape(layer, "depthwise_kernel"), _weight_shape(layer, "pointwise_kernel")
        positions = out // pw[-1]
        return positions * (math.prod(dw) + math.prod(pw))
    if kernel is not None and any("Transpose" in n for n in names):
        return inp * math.prod(kernel[:-1])
    if kernel is not None and any(n.startswith("DepthwiseConv") for n in names):
        return out * math.prod(kernel[:-2])
    if kernel is not None and ("Dense" in names or any(n.startswith(("Conv", "BaseConv")) for n in names)):
        return out * math.prod(kernel[:-1])
    rnn = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
    gates = next((g for n, g in rnn.items() if n in names), None)
    if gates is not None and input_shapes and len(input_shapes[0]) == 3:
        batch, steps, features = _known(input_shapes[0])
        units = int(layer.units)
        return batch * steps * gates * units * (features + units)
    if any("ConvLSTM" in n for n in names):
        return None
    # Wrappers run their inner layers on the wrapper's own inputs; other composites use the shapes
    # their sub-layers recorded.
    wrapper = "Wrapper" in names or "Bidirectional" in names
    total = 0
    for sub in _sublayers(layer):
        m = layer_macs(sub, input_shapes, output_shapes) if wrapper else layer_macs(sub)
        total += m or 0
    if "MultiHeadAttention" in names and len(input_shapes) >= 2:
        q, v = _known(input_shapes[0]), _known(input_shapes[1])
        heads = int(layer.num_heads)
        key_dim = int(layer.key_dim)
        value_dim = int(getattr(layer, "value_dim", None) or key_dim)
        total += q[0] * heads * math.prod(q[1:-1]) * math.prod(v[1:-1]) * (key_dim + value_dim)
    return total


def _activation_bytes(layer: Any) -> float | None:
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if nodes:
        return sum(math.prod(_known(t.shape)) * _dtype_bits(t.dtype) for t in nodes[-1].outputs) / 8
    io = _layer_io_shapes(layer)
    if io is None:
        return None
    bits = _dtype_bits(getattr(layer, "compute_dtype", "float32"))
    return sum(math.prod(_known(s)) for s in io[1]) * bits / 8


def estimate_flops(model: Any, input_shape: Any = None) -> dict[str, int | None]:
    """Multiply-accumulates (MACs) of each top-level layer of ``model`` for one forward call.

    One MAC is one multiplication plus one addition, so the usual "FLOPs" figure is ``2 * MACs``
    (which is what ``torch.utils.flop_counter.FlopCounterMode`` reports for matmuls and convolutions).

    What is counted, from each layer's input/output shapes and kernel shape:

    * ``Dense``: ``output elements * input features``; ``EinsumDense``: the product of all einsum index sizes.
    * ``Conv1D/2D/3D``: ``output elements * kernel_h * kernel_w * in_channels / groups``;
      depthwise: ``output elements * kernel size``; separable: depthwise + pointwise;
      transposed: ``input elements * kernel size * filters``.
    * ``SimpleRNN``/``GRU``/``LSTM``: ``batch * steps * gates * units * (features + units)`` (1, 3, 4 gates).
    * ``MultiHeadAttention``: its projections plus ``heads * Tq * Tk * (key_dim + value_dim)``.
    * Layers made of sub-layers (nested models, wrappers): the sum of their sub-layers.
    * Everything else counts 0: bias additions, activations, normalization, pooling (comparisons and
      additions, no multiplies), reshapes, dropout, embeddings (lookups).

    Shapes are those the summary shows (the last symbolic call, or the build shape of a subclassed
    model), with an unknown batch size counted as 1, i.e. the figures are per sample then.

    Args:
        model: a built model (or layer).
        input_shape: optional full input shape (batch included); the model then runs once on zeros
            of that shape (``None`` sizes become 1) and every call of every layer is counted.

    Returns:
        ``{layer name: MACs}`` for ``model.layers`` in order; ``None`` for a layer whose shapes are unknown.

    Example:
        >>> import lamina
        >>> from lamina import layers
        >>> model = lamina.Sequential([lamina.Input(shape=(3,)), layers.Dense(4, name="hidden"),
        ...                            layers.Dense(2, name="out")])
        >>> estimate_flops(model)
        {'hidden': 12, 'out': 8}
        >>> estimate_flops(model, input_shape=(10, 3))
        {'hidden': 120, 'out': 80}
    """
    layers = list(getattr(model, "layers", [model]))
    if input_shape is None:
        return {layer.name: layer_macs(layer) for layer in layers}
    return _measured_macs(model, layers, input_shape)


def _measured_macs(model: Any, layers: list[Any], input_shape: Any) -> dict[str, int | None]:
    import torch

    counts: dict[int, int] = defaultdict(int)
    seen: set[int] = set()
    handles = []

    def shapes_of(structure: Any) -> list[tuple]:
        return [tuple(t.shape) for t in _flat(structure) if isinstance(t, torch.Tensor)]

    def hook(module: Any, args: tuple, kwargs: dict, output: Any) -> None:
        ins = shapes_of((args, kwargs))
        outs = shapes_of(output)
        seen.add(id(module))
        names = _mro_names(module)
        leaf = not _sublayers(module) or "EinsumDense" in names or any(n in names for n in ("LSTM", "GRU", "SimpleRNN"))
        if leaf:
            counts[id(module)] += layer_macs(module, ins, outs) or 0
        elif "MultiHeadAttention" in names and len(ins) >= 2:
            q, v = _known(ins[0]), _known(ins[1])
            value_dim = int(getattr(module, "value_dim", None) or module.key_dim)
            counts[id(module)] += (
                q[0]
                * int(module.num_heads)
                * math.prod(q[1:-1])
                * math.prod(v[1:-1])
                * (int(module.key_dim) + value_dim)
            )

    modules = [m for m in model.modules() if isinstance(m, Layer)]
    for m in modules:
        handles.append(m.register_forward_hook(hook, with_kwargs=True))
    try:
        dtype = "float32"
        ins = getattr(model, "inputs", None)
        if ins:
            dtype = ins[0].dtype

        x = torch.zeros(_known(input_shape), dtype=backend.torch_dtype(dtype))
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()

    def total(layer: Any) -> int:
        if id(layer) not in seen:
            return 0
        return counts[id(layer)] + sum(total(s) for s in _sublayers(layer))

    return {layer.name: (total(layer) if id(layer) in seen else None) for layer in layers}


# ---------------------------------------------------------------------------------------------------------------
# The summary
# ---------------------------------------------------------------------------------------------------------------


def _readable_count(count: float) -> str:
    """``320``, ``36.31M``: a count with a 1000-based suffix (K, M, G, T) above 999."""
    if count < 1000:
        return str(int(count))
    for unit in ("K", "M", "G", "T", "P"):
        count /= 1000
        if count < 1000 or unit == "P":
            return f"{count:.2f}{unit}"
    return str(count)


def _number(text: str) -> tuple[str, _Style]:
    return (text, _COLOR_NUMBER)


def print_summary(
    model: Any,
    line_length: int | None = None,
    positions: list[float] | None = None,
    print_fn: Callable[..., Any] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: Any = None,
    show_flops: bool = False,
    show_memory: bool = False,
) -> None:
    """Prints the summary of ``model`` exactly as Keras 3 does.

    Args:
        model: a ``Model`` (Sequential, functional or subclassed).
        line_length: total width of the table (default 88, or 108 with a "Connected to" column,
            capped to the terminal width minus 4 as in Keras).
        positions: relative (<= 1) or absolute column end positions.
        print_fn: called once with the whole summary text; default: print to stdout (with ANSI
            styles when stdout is a terminal, like Keras's rich console).
        expand_nested: also list the layers of nested models, indented with ``└``.
        show_trainable: add a "Trainable" column (Y / N / -).
        layer_range: two layer names (or regexes): print only the layers from the first to the last.
        show_flops: Lamina extra: add a "MACs" column (multiply-accumulates per call, see
            :func:`estimate_flops`) and a total line.
        show_memory: Lamina extra: add an "Act. memory" column, the bytes of each layer's output
            activations for the shapes shown (an unknown batch size counts as 1), and a total line.

    Raises:
        ValueError: for a ``line_length`` too small for the columns, or a bad ``layer_range``.
    """
    if isinstance(model, Sequential) or not _is_functional(model):
        sequential_like = True
        layers = list(model.layers)
        relevant_nodes: list[Any] = []
    else:
        nodes_by_depth, operations = _graph(model)
        layers = operations
        sequential_like = True
        nodes: list[Any] = []
        for depth_nodes in nodes_by_depth.values():
            if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and len(depth_nodes[0].input_tensors) > 1):
                sequential_like = False
                break
            nodes += depth_nodes
        if sequential_like:
            node_ids = {id(n) for n in nodes}
            for layer in model.layers:
                hits = sum(1 for node in layer._inbound_nodes if id(node) in node_ids)
                if hits > 1:
                    sequential_like = False
                    break
        relevant_nodes = [n for v in nodes_by_depth.values() for n in v]

    if sequential_like:
        default_line_length = 88
        positions = positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        alignment = ["left", "left", "right"]
    else:
        default_line_length = 108
        positions = positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        alignment = ["left", "left", "right", "left"]
    if show_trainable:
        default_line_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        alignment.append("center")
    extras = [(name, width) for name, width, on in (("MACs", 10, show_flops), ("Act. size", 13, show_memory)) if on]
    extra_width = sum(width for _, width in extras)
    default_line_length += extra_width
    default_line_length = min(default_line_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_line_length
    if extras and len(positions) < len(header) + len(extras):
        # Lamina's extra columns get fixed widths at the right; Keras's columns share the rest.
        scale = (line_length - extra_width) / line_length
        positions = [p * scale for p in positions]
        end = positions[-1] if positions else 0.0
        for _, width in extras:
            end += width / line_length
            positions.append(end)
    header += [name for name, _ in extras]
    alignment += ["right"] * len(extras)
    column_widths = []
    current = 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        column_widths.append(width)
        current += width

    def connections(layer: Any) -> _Text:
        parts: list[Any] = []
        relevant = {id(n) for n in relevant_nodes}
        for node in layer._inbound_nodes:
            if relevant and id(node) not in relevant:
                continue
            for t in node.input_tensors:
                inbound, node_index, tensor_index = t._keras_history
                if parts:
                    parts.append(", ")
                parts += [f"{inbound.name}[", _number(str(node_index)), "][", _number(str(tensor_index)), "]"]
        return _Text.of(*parts) if parts else _Text.of("-")

    def fields(layer: Any, prefix: str) -> list[_Text]:
        name = _Text.of(f"{prefix}{layer.name} (", (type(layer).__name__, _COLOR_SYMBOL), ")")
        if not hasattr(layer, "built"):
            params = _Text.of(_number("0"))
        elif not layer.built:
            params = _Text.of(_number("0"), " (unbuilt)")
        else:
            params = _Text.of(_number(f"{layer.count_params():,}"))
        row = [name, _format_layer_shape(layer), params]
        if not sequential_like:
            row.append(connections(layer))
        if show_trainable:
            if hasattr(layer, "weights") and len(layer.weights) > 0:
                row.append(_Text.of(("Y", (True, 34)) if layer.trainable else ("N", (True, 9))))
            else:
                row.append(_Text.of(("-", BOLD)))
        if show_flops:
            macs = layer_macs(layer) if type(layer).__name__ != "InputLayer" else 0
            row.append(_Text.of("?" if macs is None else _number(_readable_count(macs))))
        if show_memory:
            size = _activation_bytes(layer)
            row.append(_Text.of("?" if size is None else readable_memory_size(size)))
        return row

    def layer_rows(layer: Any, level: int = 0) -> list[list[_Text]]:
        prefix = "   " * level + "└ " if level else ""
        rows = [fields(layer, prefix)]
        nested = getattr(layer, "layers", None) if expand_nested else None
        if nested:
            for sub in nested:
                rows.extend(layer_rows(sub, level + 1))
        return rows

    bounds = get_layer_index_bound_by_layer_name(layers, layer_range)
    rows = [row for layer in layers[bounds[0] : bounds[1]] for row in layer_rows(layer)]

    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    trainable_count, trainable_size = count_params(trainable), weight_memory_size(trainable)
    non_trainable_count, non_trainable_size = count_params(non_trainable), weight_memory_size(non_trainable)
    optimizer = getattr(model, "optimizer", None)
    optimizer_built = bool(
        getattr(model, "compiled", False) and optimizer is not None and getattr(optimizer, "built", False)
    )
    optimizer_vars = list(optimizer.variables) if optimizer_built else []
    optimizer_count, optimizer_size = count_params(optimizer_vars), weight_memory_size(optimizer_vars)
    total_count = trainable_count + non_trainable_count + optimizer_count
    total_size = trainable_size + non_trainable_size + optimizer_size

    console = _Console(capture=print_fn is not None)
    headers = [_Text.of(h) for h in header]
    table = _render_table(headers, alignment, column_widths, rows, line_length, console.ascii_only)
    lines = console.text_lines(_Text.of((f'Model: "{model.name}"', BOLD)))
    lines += table

    def total_line(label: str, count: str, size: str | None) -> None:
        parts: list[Any] = [(f" {label}: ", BOLD), _number(count)]
        if size is not None:
            parts.append(f" ({size})")
        lines.extend(console.text_lines(_Text.of(*parts)))

    total_line("Total params", f"{total_count:,}", readable_memory_size(total_size))
    total_line("Trainable params", f"{trainable_count:,}", readable_memory_size(trainable_size))
    total_line("Non-trainable params", f"{non_trainable_count:,}", readable_memory_size(non_trainable_size))
    if optimizer_built:
        total_line("Optimizer params", f"{optimizer_count:,}", readable_memory_size(optimizer_size))
    if show_flops:
        macs = [layer_macs(layer) for layer in layers if type(layer).__name__ != "InputLayer"]
        known = [m for m in macs if m is not None]
        note = _readable_count(sum(known)) if len(known) == len(macs) else "some layers unknown"
        total_line("Total MACs", f"{sum(known):,}", note)
    if show_memory:
        sizes = [_activation_bytes(layer) for layer in layers]
        total_line("Activation memory", readable_memory_size(sum(s for s in sizes if s is not None)), None)

    text = console.render(lines)
    if print_fn is not None:
        print_fn(text)
    elif not is_interactive_logging_enabled():  # to the `logging` module, as Keras sends it to absl
        print_msg(text)
    else:
        console.file.write(text)
        console.file.flush()
