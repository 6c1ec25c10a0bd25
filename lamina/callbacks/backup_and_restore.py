"""``BackupAndRestore``: resume an interrupted ``fit`` exactly where it stopped.

At the end of every epoch (or every ``save_freq`` batches) it writes, atomically, the model
weights, the optimizer state (slots and iteration count), the epoch, every random number
generator state (torch, NumPy, Python) and the data-order seed. When ``fit`` starts again
with the same callback, training resumes at the next epoch with all of it restored, so the
resumed run ends with the same weights as an uninterrupted one. The file is loaded with
``torch.load(weights_only=True)``: tensors and plain values only, never code.
"""

from __future__ import annotations

import os
import random
import shutil
from typing import Any

import numpy as np
import torch

from lamina.callbacks.callback import Callback

_FILE = "latest.pt"


class BackupAndRestore(Callback):
    """Backs up training state to ``backup_dir`` and restores it when ``fit`` restarts.

    Args:
        backup_dir: folder for the backup (created if needed).
        save_freq: ``"epoch"``, an integer number of batches, or ``False`` to only restore.
        double_checkpoint: keep the previous backup too (``latest.pt.prev``), used if the newest is unreadable.
        delete_checkpoint: remove the backup when training finishes normally.

    Example:
        >>> import lamina, tempfile
        >>> cb = lamina.callbacks.BackupAndRestore(tempfile.mkdtemp())
        >>> cb.save_freq
        'epoch'
    """

    def __init__(
        self,
        backup_dir: str,
        save_freq: str | int | bool = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and save_freq is not False and not isinstance(save_freq, int):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, _FILE)
        self._current_epoch = 0
        self._batches_seen = 0
        self._pending: dict[str, Any] | None = None

    def _implements(self, hook: str) -> bool:
        if hook == "on_train_batch_end":
            return isinstance(self.save_freq, int) and not isinstance(self.save_freq, bool)
        if hook == "on_train_batch_begin":
            return True
        return super()._implements(hook)

    # ------------------------------------------------------------------ restore
    def _read(self) -> dict[str, Any] | None:
        for path in (self._path, self._path + ".prev"):
            if os.path.exists(path):
                try:
                    return torch.load(path, map_location="cpu", weights_only=True)
                except Exception as e:  # noqa: BLE001 - a damaged newest backup falls back to the previous one
                    last_error = e
                    continue
        if os.path.exists(self._path):
            raise ValueError(f"BackupAndRestore: the backup {self._path!r} could not be read: {last_error}")
        return None

    def on_train_begin(self, logs: Any = None) -> None:
        state = self._read()
        if state is None:
            return
        model = self.model
        model._initial_epoch_override = (
            int(state["epoch"]) + 1 if state.get("epoch_done", True) else int(state["epoch"])
        )
        adapter = getattr(model, "_fit_adapter", None)
        if adapter is not None and hasattr(adapter, "seed") and "data_seed" in state:
            adapter.seed = int(state["data_seed"])
        self._pending = state
        if model.built:
            self._restore(state)

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        if self._pending is not None:
            self._restore(self._pending)

    def _restore(self, state: dict[str, Any]) -> None:
        model = self.model
        model.load_state_dict(state["model"])
        opt = model.optimizer
        if opt is not None and state.get("optimizer"):
            if not getattr(opt, "built", False):
                opt.build(model.trainable_weights)
            values = state["optimizer"]
            variables = list(opt.variables)
            if len(values) != len(variables):
                raise ValueError(
                    f"BackupAndRestore: the backup has {len(values)} optimizer variables but the optimizer has "
                    f"{len(variables)}. Was the model or optimizer changed since the backup?"
                )
            for v, value in zip(variables, values):
                v.assign(value)
        torch.set_rng_state(state["torch_rng"])
        if torch.cuda.is_available() and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        np_state = state["numpy_rng"]
        np.random.set_state((np_state[0], np.asarray(np_state[1], dtype=np.uint32), *np_state[2:]))
        py_state = state["python_rng"]
        random.setstate((py_state[0], tuple(py_state[1]), py_state[2]))
        self._pending = None

    # ------------------------------------------------------------------ save
    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if isinstance(self.save_freq, int) and not isinstance(self.save_freq, bool):
            self._batches_seen += 1
            if self._batches_seen >= self.save_freq:
                self._batches_seen = 0
                self._save(self._current_epoch, epoch_done=False)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if self.save_freq is not False:
            self._save(epoch, epoch_done=True)

    def _save(self, epoch: int, epoch_done: bool) -> None:
        from lamina.backend.atomic import atomic_write

        model = self.model
        opt = model.optimizer
        np_state = np.random.get_state()
        adapter = getattr(model, "_fit_adapter", None)
        state = {
            "epoch": epoch,
            "epoch_done": epoch_done,
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer": [v.value.detach().cpu() for v in opt.variables]
            if opt is not None and getattr(opt, "built", False)
            else [],
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "numpy_rng": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
            "python_rng": list(random.getstate()),
            "data_seed": int(getattr(adapter, "seed", 0) or 0),
        }
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            shutil.copyfile(self._path, self._path + ".prev")
        with atomic_write(self._path) as tmp:
            torch.save(state, tmp)

    def on_train_end(self, logs: Any = None) -> None:
        if (
            self.delete_checkpoint
            and not getattr(self.model, "stop_training", False)
            and os.path.isdir(self.backup_dir)
        ):
            shutil.rmtree(self.backup_dir, ignore_errors=True)
