"""The learner's notebook, executed by a real Jupyter kernel (``nbclient``): what the stored outputs show.

Replays a user studying in Jupyter: a Sequential model given ``input_shape=`` (Keras warns), ``fit`` with the
default ``verbose="auto"`` (Keras draws its live bar in a notebook), ``history.plot()`` (inline, once, without
touching matplotlib's backend) and a pyplot figure afterwards (still shown).
"""

from __future__ import annotations

import os
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPOCHS = 3

CELLS = {
    "setup": """
import time
import matplotlib
import numpy as np
import lamina
from lamina import layers
backend_before = matplotlib.get_backend()
rng = np.random.default_rng(0)
x = rng.random((480, 4), dtype=np.float32)
y = x.sum(axis=1, keepdims=True)
""",
    "model": """
model = lamina.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(1)])
model.compile(optimizer="adam", loss="mse", metrics=["mae"])
""",
    # a few milliseconds per batch so that the bar redraws (at most every 0.05 s) within each epoch
    "fit": f"""
slow = lamina.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: time.sleep(0.004))
history = model.fit(x, y, batch_size=8, epochs={EPOCHS}, callbacks=[slow])
""",
    "plot_last": "history.plot()",
    "plot_assigned": """
fig = history.plot()
print(type(fig).__name__)
""",
    "backend": "print(matplotlib.get_backend() == backend_before, matplotlib.get_backend())",
    "pyplot": """
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
plt.show()
""",
}


def _stream(cell: dict, name: str) -> str:
    return "".join(o["text"] for o in cell["outputs"] if o["output_type"] == "stream" and o["name"] == name)


def _images(cell: dict) -> list[dict]:
    return [o for o in cell["outputs"] if "image/png" in o.get("data", {})]


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)  # the bar's colours


def _as_rendered(text: str) -> list[str]:
    """What a notebook frontend shows of a stream: every line as its last carriage-return redraw left it."""
    return [line.rsplit("\r", 1)[-1] for line in text.split("\n") if line.rsplit("\r", 1)[-1]]


@pytest.fixture(scope="module")
def executed() -> dict[str, dict]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source.strip()) for source in CELLS.values()]
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": REPO}}, coalesce_streams=False
    )
    client.execute()
    return dict(zip(CELLS, nb.cells, strict=True))


def test_sequential_input_shape_warning_is_shown(executed):
    assert "UserWarning: Do not pass an `input_shape`/`input_dim` argument to a layer" in _stream(
        executed["model"], "stderr"
    )


def test_fit_draws_the_live_progress_bar_with_bounded_output(executed):
    raw = _plain(_stream(executed["fit"], "stdout"))
    steps = 480 // 8
    # the live bar (verbose=1), redrawn in place: several carriage-return redraws per epoch
    assert raw.count("\r") > EPOCHS
    assert raw.count(f"{steps}/{steps} ━━━━━━━━━━━━━━━━━━━━") == EPOCHS
    rendered = _as_rendered(raw)
    assert len(rendered) == 2 * EPOCHS  # "Epoch i/3" and the final bar of each epoch, nothing else
    for i in range(EPOCHS):
        assert rendered[2 * i] == f"Epoch {i + 1}/{EPOCHS}"
        line = rendered[2 * i + 1]
        assert line.startswith(f"{steps}/{steps} ━━━━") and " - loss: " in line and " - mae: " in line
    assert len(raw) < 40 * steps * EPOCHS  # bounded: the redraws are throttled, not one line per batch
    assert "Traceback" not in _stream(executed["fit"], "stderr")


def test_history_plot_is_displayed_inline_once_and_returns_the_figure(executed):
    last = executed["plot_last"]
    assert len(_images(last)) == 1, [o["output_type"] for o in last["outputs"]]
    assert [o["output_type"] for o in last["outputs"]] == ["display_data"]
    assigned = executed["plot_assigned"]
    assert _stream(assigned, "stdout") == "Figure\n"
    assert len(_images(assigned)) == 1
    assert not os.path.exists(os.path.join(REPO, "history.png"))


def test_matplotlib_backend_is_unchanged_and_pyplot_still_draws(executed):
    assert _stream(executed["backend"], "stdout").startswith("True ")
    assert "inline" in _stream(executed["backend"], "stdout")
    assert len(_images(executed["pyplot"])) == 1
