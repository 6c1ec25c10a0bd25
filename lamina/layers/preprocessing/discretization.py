"""``Discretization``: numbers -> bucket ids (or encodings), with boundaries given or learned by ``adapt``.

``adapt`` estimates quantiles the way Keras does: each batch is summarized by every
``len/num_buckets``-th sorted value weighted by that step (``num_buckets = 1/epsilon``), summaries
are merged and compressed by interpolating their cumulative weights, and the boundaries are the
compressed summary at ``1/num_bins``. The steps below follow that arithmetic operation for
operation (NumPy, float32), so the learned boundaries are Keras's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import backend
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import preprocessing_utils as utils
from lamina.layers.preprocessing.preprocessing_utils import _validate_string_arg, iterate_adapt_batches
from lamina.ops.operation import KerasTensor


def summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """A ``(2, k)`` summary of ``values``: every ``step``-th sorted value, each weighted ``step``."""
    ordered = np.sort(np.reshape(values, [-1]))
    step = max(ordered.size / (1.0 / epsilon), 1)
    picked = ordered[int(step - 1) :: int(step)]
    return np.stack([picked, np.ones_like(picked) * step])


def compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Resamples a summary at the ``epsilon``-spaced cumulative-weight quantiles (a no-op if already small)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_percents, summary[0])
    new_cum = np.interp(percents, cum_percents, cum_weights)
    new_weights = new_cum - np.concatenate((np.array([0]), new_cum[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


def merge_summaries(first: np.ndarray, second: np.ndarray, epsilon: float) -> np.ndarray:
    merged = np.concatenate((first, second), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


class Discretization(Layer):
    """Buckets numbers by boundaries: ``x < b[0]`` -> 0, ``b[0] <= x < b[1]`` -> 1, ..., ``x >= b[-1]`` -> ``len(b)``.

    Args:
        bin_boundaries: sorted boundaries; or leave ``None`` and give ``num_bins`` and call ``adapt``.
        num_bins: the number of buckets ``adapt`` learns (quantiles of the data).
        epsilon: the quantile estimate's error tolerance (smaller: more exact, more memory).
        output_mode: ``"int"`` (bucket ids, int32), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: sparse outputs need TensorFlow; only ``False`` is accepted.

    Example:
        >>> import lamina
        >>> layer = lamina.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
        >>> layer([[-1.5, 1.0, 3.4, 0.5]]).tolist()
        [[0, 2, 3, 1]]
    """

    _autocast_inputs = False

    def __init__(
        self,
        bin_boundaries: Any = None,
        num_bins: int | None = None,
        epsilon: float = 0.01,
        output_mode: str = "int",
        sparse: bool = False,
        dtype: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if sparse:
            raise ValueError("`sparse=True` cannot be used with backend torch")
        _validate_string_arg(output_mode, ("int", "one_hot", "multi_hot", "count"), "Discretization", "output_mode")
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Both `num_bins` and `bin_boundaries` should not be set. "
                f"Received: `num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = list(bin_boundaries) if bin_boundaries is not None else None
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.summary = None if self.bin_boundaries else np.array([[], []], dtype="float32")

    @property
    def input_dtype(self) -> str:
        return backend.floatx()

    @property
    def output_dtype(self) -> str:
        return self.compute_dtype if self.output_mode != "int" else "int32"

    # ------------------------------------------------------------------ adapt
    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learns ``num_bins`` quantile boundaries from ``data`` (an array, a tensor, or an iterable of batches).

        Raises:
            ValueError: for a layer built with ``bin_boundaries``, or data with no values.
        """
        if self.num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`, "
                "use `num_bins` instead."
            )
        self.reset_state()
        seen = 0
        for batch in iterate_adapt_batches(data, steps, (np.ndarray, torch.Tensor)):
            seen += int(np.size(backend.to_numpy(batch) if isinstance(batch, torch.Tensor) else np.asarray(batch)))
            self.update_state(batch)
        if seen == 0:
            raise ValueError(
                f'Layer "{self.name}" (Discretization) cannot adapt on empty data: it received no values. '
                "Pass a non-empty array or dataset."
            )
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        utils.check_numeric(data, self, "numeric inputs")
        values = backend.to_numpy(data) if isinstance(data, torch.Tensor) else np.array(data)
        self.summary = merge_summaries(summarize(values.astype("float32"), self.epsilon), self.summary, self.epsilon)

    def finalize_state(self) -> None:
        if self.num_bins is None:
            return
        self.bin_boundaries = compress_summary(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self) -> None:
        if self.num_bins is None:
            return
        self.summary = np.array([[], []], dtype="float32")

    # ------------------------------------------------------------------ call
    def _convert_inputs(self, x: Any) -> Any:
        utils.check_numeric(x, self, "numeric inputs")
        return super()._convert_inputs(x)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.bin_boundaries is None:
            raise ValueError(
                "You need to either pass the `bin_boundaries` argument at construction time or call "
                "`adapt(dataset)` before you can start using the `Discretization` layer."
            )
        cache = self.__dict__.setdefault("_boundary_cache", {})
        key = (tuple(self.bin_boundaries), inputs.device)
        if key not in cache:
            cache.clear()
            cache[key] = torch.as_tensor(self.bin_boundaries, dtype=torch.float32, device=inputs.device)
        boundaries = cache[key]
        x = inputs.to(torch.uint8) if inputs.dtype == torch.bool else inputs
        if x.is_floating_point() and x.dtype != boundaries.dtype:
            boundaries = boundaries.to(x.dtype)
        indices = torch.bucketize(x, boundaries, right=True).to(torch.int32)  # NumPy's digitize
        depth = len(self.bin_boundaries) + 1
        return utils.encode_categorical(indices, self.output_mode, depth, backend.torch_dtype(self.output_dtype))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        return utils.categorical_output_shape(tuple(input_shape), self.output_mode, depth)

    def compute_output_spec(self, inputs: Any) -> KerasTensor:
        return KerasTensor(self.compute_output_shape(inputs.shape), self.output_dtype)

    def load_own_variables(self, store: Any) -> None:
        if len(store) == 1:
            self.summary = store["0"]  # the legacy format kept the summary as a weight

    def get_config(self) -> dict[str, Any]:
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Discretization:
        config = dict(config)
        config.pop("trainable", None)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            # after adapt both are set, which the constructor refuses: apply the boundaries afterwards, as Keras
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = boundaries
            return layer
        return cls(**config)

    def extra_repr(self) -> str:
        n = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        return f"name={self.name!r}, bins={n}, output_mode={self.output_mode!r}"
