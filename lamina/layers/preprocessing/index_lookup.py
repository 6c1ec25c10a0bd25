"""``IndexLookup``: the shared base of ``StringLookup`` and ``IntegerLookup`` (vocabulary -> indices).

Keras builds this on TensorFlow hash tables; here the table is a Python ``dict`` (token -> index)
and the encodings are torch ops, with Keras's semantics kept exactly:

* indices: ``[mask] + [oov] * num_oov_indices + vocabulary`` (the mask slot only in ``"int"`` mode);
* ``adapt`` counts tokens and orders the vocabulary by count, ties by the token itself, both
  descending (Keras's ``np.lexsort((tokens, counts))[::-1]``; strings compare as UTF-8 bytes, i.e.
  by code point), then keeps the first ``max_tokens - num_special``;
* out-of-vocabulary tokens go to the single OOV index, or with several to ``hash % num_oov_indices``
  (FarmHash ``Fingerprint64`` of the string, SipHash with ``salt``; integers use ``floormod`` unless
  ``oov_method="farmhash"``);
* TF-IDF weights are ``log(1 + num_documents / (1 + document_count))`` in float64 cast to float32,
  the OOV slots get their mean; they are saved as the ``idf_weights`` entry of the layer's ``vars``,
  and an adapted vocabulary as ``vocabulary.txt`` in the layer's ``assets/`` folder, as Keras does.
"""

from __future__ import annotations

import collections
import os
from typing import Any

import numpy as np
import torch

from lamina import backend, serialization
from lamina.backend.atomic import atomic_write
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import preprocessing_utils as utils
from lamina.layers.preprocessing.hash_functions import hash_buckets
from lamina.ops.operation import KerasTensor

_INT64_MAX = (1 << 63) - 1
_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _check_arguments(
    caller: str,
    max_tokens: int | None,
    pad_to_max_tokens: bool,
    num_oov_indices: int,
    oov_method: str,
    vocabulary_dtype: str,
    salt: Any,
    output_mode: str,
    invert: bool,
    sparse: bool,
    idf_weights: Any,
) -> list[int] | None:
    """Keras's constructor checks (same order, same messages); returns the salt as a pair."""
    if max_tokens is not None and max_tokens <= 1:
        raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
    if pad_to_max_tokens and max_tokens is None:
        raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens={max_tokens}")
    if num_oov_indices < 0:
        raise ValueError(
            f"`num_oov_indices` must be greater than or equal to 0. Received: num_oov_indices={num_oov_indices}"
        )
    utils._validate_string_arg(oov_method, ("floormod", "farmhash"), caller, "oov_method")
    if salt is not None:
        if vocabulary_dtype != "string" and oov_method != "farmhash":
            raise ValueError(f"`salt` can only be used when `oov_method='farmhash'`. Received: oov_method={oov_method}")
        if isinstance(salt, (tuple, list)) and len(salt) == 2:
            salt = list(salt)
        elif isinstance(salt, int):
            salt = [salt, salt]
        else:
            raise ValueError(
                "The `salt` argument for `IndexLookup` can only be a tuple of 2 integers, or a single "
                f"integer. Received: salt={salt}."
            )
    utils._validate_string_arg(output_mode, _OUTPUT_MODES, caller, "output_mode")
    if invert and output_mode != "int":
        raise ValueError(f"`output_mode` must be `'int'` when `invert` is true. Received: output_mode={output_mode}")
    if sparse:
        # Keras's message on the torch backend: sparse outputs need TensorFlow
        raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
    if idf_weights is not None and output_mode != "tf_idf":
        raise ValueError(
            "`idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
            f"Received: idf_weights={idf_weights} and output_mode={output_mode}"
        )
    return salt


class IndexLookup(Layer):
    """Maps values from a vocabulary to integer indices (base of ``StringLookup`` and ``IntegerLookup``).

    Not exported, as in Keras: use :class:`StringLookup` or :class:`IntegerLookup`.
    """

    _autocast_inputs = False  # inputs are tokens or indices, never cast to the float policy

    def __init__(
        self,
        max_tokens: int | None,
        num_oov_indices: int,
        mask_token: Any,
        oov_token: Any,
        vocabulary_dtype: str,
        vocabulary: Any = None,
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        sparse: bool = False,
        pad_to_max_tokens: bool = False,
        oov_method: str = "floormod",
        name: str | None = None,
        salt: Any = None,
        **kwargs: Any,
    ) -> None:
        vocabulary_dtype = "string" if vocabulary_dtype in ("string", "str", str) else vocabulary_dtype
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        salt = _check_arguments(
            type(self).__name__,
            max_tokens,
            pad_to_max_tokens,
            num_oov_indices,
            oov_method,
            vocabulary_dtype,
            salt,
            output_mode,
            invert,
            sparse,
            idf_weights,
        )
        frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)  # the dtype follows the vocabulary, as in Keras
        if kwargs:
            raise ValueError(f"Unrecognized keyword argument(s): {kwargs}")
        super().__init__(name=name)
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen_vocab_size
        # a vocabulary file is not kept in the config: the vocabulary goes to the assets instead
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens: list[Any] = []
        self._table: dict[Any, int] = {}
        self._reset_counts()
        # where outputs go: the default device, as weights are built; `.to(device)` moves this empty buffer
        self.register_buffer("_device_anchor", torch.empty(0, device=backend.default_device()), persistent=False)
        self.idf_weights: torch.Tensor | None = None
        if output_mode == "tf_idf":
            if has_input_vocabulary and idf_weights is None:
                raise ValueError(
                    "When specifying the `vocabulary` argument, in TF-IDF output mode, the `idf_weights` "
                    "argument must also be provided."
                )
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------------------ indices
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The size of the vocabulary, mask and OOV indices included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[Any]:
        """The vocabulary in index order (with the mask and OOV tokens unless ``include_special_tokens=False``)."""
        vocab = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        if not include_special_tokens:
            vocab = vocab[self._token_start_index() :]
        return vocab

    # ------------------------------------------------------------------ vocabulary
    def _normalize_token(self, token: Any) -> Any:
        """A vocabulary entry as the table holds it (``str`` or ``int``); overridden by the subclasses."""
        return token

    def _read_vocabulary_file(self, path: str) -> list[Any]:
        with open(path, encoding="utf-8", newline="") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # a final newline ends the last line, it does not start a new one
        return [line.removesuffix("\r") for line in lines]  # TF's line reader drops a "\r" before "\n"

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Sets the vocabulary (and, for ``"tf_idf"``, the IDF weights) directly instead of ``adapt``.

        Args:
            vocabulary: a list, tuple, 1-D array or tensor of terms, or the path of a text file with one
                term per line.
            idf_weights: for ``output_mode="tf_idf"``: one weight per term.

        Raises:
            ValueError: for an empty vocabulary, repeated terms, the mask or OOV token inside it, more
                terms than ``max_tokens``, or IDF weights that do not fit.
        """
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(
                "`idf_weights` should only be set if output_mode is `'tf_idf'`. "
                f"Received: output_mode={self.output_mode} and idf_weights={idf_weights}"
            )
        if isinstance(vocabulary, (str, os.PathLike)):
            path = os.fspath(vocabulary)
            if serialization.in_safe_mode():
                raise ValueError(
                    "Requested the loading of a vocabulary file outside of the model archive. This carries a "
                    "potential risk of loading arbitrary and sensitive files and thus it is disallowed by "
                    "default. If you trust the source of the artifact, you can override this error by passing "
                    "`safe_mode=False` to the loading function. "
                    f"Vocabulary file: '{path}'"
                )
            if not os.path.exists(path):
                raise ValueError(f"Vocabulary file {path} does not exist.")
            if self.output_mode == "tf_idf":
                raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary from file.")
            vocabulary = self._read_vocabulary_file(path)
        vocabulary = utils.listify(vocabulary)
        if isinstance(vocabulary, (tuple, np.ndarray)):
            vocabulary = list(vocabulary)
        if not isinstance(vocabulary, list):
            raise ValueError(
                "`vocabulary` must be a list, tuple, 1-D array or tensor of terms, or a file path. "
                f"Received: vocabulary={vocabulary!r}"
            )
        vocabulary = [self._normalize_token(v) for v in vocabulary]
        if not vocabulary:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        self._set_tokens(vocabulary, idf_weights)

    def _set_tokens(self, vocabulary: list[Any], idf_weights: Any) -> None:
        oov_start, token_start = self._oov_start_index(), self._token_start_index()
        special = [self.mask_token] * oov_start + [self.oov_token] * self.num_oov_indices
        found_special = vocabulary[:token_start] == special
        tokens = vocabulary[token_start:] if found_special else vocabulary
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): the passed vocabulary has at least one repeated '
                f"term. Please uniquify your dataset. The repeated terms are: {repeated}"
            )
        hint = (
            "Note that passed `vocabulary` does not need to include the OOV and mask tokens. Either remove all "
            "mask and OOV tokens, or include them only at the start of the vocabulary in precisely this order: "
            f"{special}."
        )
        if self.mask_token is not None and self.mask_token in tokens:
            index = [i for i, v in enumerate(vocabulary) if v == self.mask_token][-1]
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): found reserved mask token at unexpected location '
                f"in `vocabulary`. {hint} Received: mask_token={self.mask_token} at vocabulary index [{index}]"
            )
        # the OOV token only matters (and is only refused) when inverting, as in Keras
        if self.oov_token is not None and self.invert and self.oov_token in tokens:
            index = [i for i, v in enumerate(vocabulary) if v == self.oov_token][-1]
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): found reserved OOV token at unexpected location '
                f"in `vocabulary`. {hint} Received: oov_token={self.oov_token} at vocabulary index [{index}]"
            )
        new_size = token_start + len(tokens)
        if self.max_tokens is not None and new_size > self.max_tokens:
            raise ValueError(
                "Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary size "
                f"is {new_size}; `max_tokens` is {self.max_tokens}."
            )
        self._install(tokens)
        if self.output_mode == "tf_idf" and idf_weights is not None:
            self._set_idf_weights(idf_weights, len(vocabulary), found_special, token_start)

    def _set_idf_weights(self, idf_weights: Any, vocab_len: int, found_special: bool, token_start: int) -> None:
        weights = np.asarray(utils.listify(idf_weights))
        if len(weights) != vocab_len:
            raise ValueError(
                "`idf_weights` must be the same length as vocabulary. "
                f"len(idf_weights) is {len(weights)}; len(vocabulary) is {vocab_len}"
            )
        if weights.ndim != 1:
            raise ValueError(f"TF-IDF data must be a 1-index array. Received: type(idf_weights)={type(idf_weights)}")
        # the special tokens have no document frequency: they get the mean weight, as in Keras
        front, front_value = (0, 0.0) if found_special else (token_start, float(np.average(weights)))
        back = self.max_tokens - front - len(weights) if self.pad_to_max_tokens and self.max_tokens else 0
        weights = np.pad(weights, (front, back), "constant", constant_values=(front_value, 0))
        self._store_idf(weights.astype(backend.floatx()))

    def _store_idf(self, weights: np.ndarray) -> None:
        tensor = torch.as_tensor(weights, dtype=torch.float32, device=self._device_anchor.device)
        if "idf_weights" in self._buffers:
            self._buffers["idf_weights"] = tensor
        else:
            self.__dict__.pop("idf_weights", None)
            self.register_buffer("idf_weights", tensor, persistent=False)

    def _install(self, tokens: list[Any]) -> None:
        """Replaces the lookup table with ``tokens`` (after the special indices), freezing the size."""
        start = self._token_start_index()
        self._tokens = list(tokens)
        self._table = {t: i + start for i, t in enumerate(self._tokens)}
        self._on_new_table()
        self._record_vocabulary_size()

    def _on_new_table(self) -> None:
        """Hook for subclasses that keep derived tables (IntegerLookup's sorted keys)."""

    def _record_vocabulary_size(self) -> None:
        if self.output_mode != "int" and not self.pad_to_max_tokens:
            new_size = self.vocabulary_size()
            if self._frozen_vocab_size is not None and new_size != self._frozen_vocab_size:
                raise ValueError(
                    f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, the vocabulary "
                    f"size cannot be changed after the layer is called. Old vocab size is "
                    f"{self._frozen_vocab_size}, new vocab size is {new_size}"
                )
        self._frozen_vocab_size = self.vocabulary_size()

    def _ensure_known_vocab_size(self) -> None:
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        if self._frozen_vocab_size is None:
            raise self._error(
                "a vocabulary before it is called",
                f"a call with `output_mode={self.output_mode}` and `pad_to_max_tokens=False` and no vocabulary",
                "Either pass a `vocabulary` argument to the layer, or call `adapt` with some sample data.",
            )

    # ------------------------------------------------------------------ adapt
    def _reset_counts(self) -> None:
        self._token_counts: collections.Counter = collections.Counter()
        self._document_counts: collections.Counter = collections.Counter()
        self._num_documents = 0
        self._seen_elements = 0

    def reset_state(self) -> None:
        if not self._has_input_vocabulary:
            self._reset_counts()

    def _adapt_keys(self, batch: Any) -> np.ndarray:
        """One adapt batch as a NumPy array of table keys (``str`` or ``int``); overridden by the subclasses."""
        raise NotImplementedError

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Computes the vocabulary (and TF-IDF document frequencies) from ``data``.

        Args:
            data: a NumPy array or list (each element of a 1-D array is one document), a tensor, or an
                iterable of batches (a generator, a DataLoader, a dataset from ``lamina.utils``).
            steps: how many batches of an iterable to read (all when ``None``).

        Raises:
            ValueError: for a layer built with a fixed ``vocabulary``, or data with no elements at all.
        """
        self.reset_state()
        single = (list, tuple, np.ndarray, torch.Tensor, str, bytes)
        for batch in utils.iterate_adapt_batches(data, steps, single):
            if batch is data and not isinstance(data, (str, bytes)):
                keys = self._adapt_keys(batch)
                if keys.ndim == 1:
                    keys = keys[:, None]  # each element of a flat array is one document
                self._update_from_keys(keys)
            else:
                self.update_state(batch)
        if self._seen_elements == 0 and not self._has_input_vocabulary:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) cannot adapt on empty data: it received no '
                "elements to build a vocabulary from. Pass a non-empty array, list or dataset."
            )
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        """Adds the tokens of one batch to the counts ``adapt`` builds the vocabulary from."""
        self._update_from_keys(self._adapt_keys(data))

    def _check_adaptable(self) -> None:
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via `vocabulary` argument "
                "or `set_vocabulary()` method."
            )

    def _update_from_keys(self, keys: np.ndarray) -> None:
        if keys.ndim == 0:
            keys = keys.reshape(1)
        if keys.ndim == 1:
            keys = keys[None]  # a flat batch is one document
        self._update_from_rows([row.reshape(-1).tolist() for row in keys])

    def _update_from_rows(self, rows: list[list[Any]]) -> None:
        """Counts tokens over ``rows`` (one document each); TF-IDF also counts documents per token."""
        self._check_adaptable()
        counts, seen = self._token_counts, 0
        for row in rows:
            counts.update(row)
            seen += len(row)
            if self.output_mode == "tf_idf":
                self._document_counts.update(set(row))
        self.__dict__["_seen_elements"] = self._seen_elements + seen  # one attribute write, not one per row
        if self.output_mode == "tf_idf":
            self.__dict__["_num_documents"] = self._num_documents + len(rows)

    def finalize_state(self) -> None:
        """Turns the counts into the vocabulary (most frequent first, ties by the token, both descending)."""
        if self._has_input_vocabulary or not self._token_counts:
            self._record_vocabulary_size()
            return
        counts = self._token_counts
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(special, None)
        ordered = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if self.max_tokens:
            ordered = ordered[: self.max_tokens - self._token_start_index()]
        tokens = [t for t, _ in ordered]
        self._install(tokens)
        if self.output_mode == "tf_idf":
            doc_counts = np.asarray([self._document_counts[t] for t in tokens], dtype=np.float64)
            idf = np.log(1 + self._num_documents / (1 + doc_counts)).astype(backend.floatx())
            front = np.full(self._token_start_index(), idf.mean(dtype=np.float32) if idf.size else 0, idf.dtype)
            weights = np.concatenate([front, idf])
            if self.pad_to_max_tokens and self.max_tokens is not None:
                weights = np.pad(weights, (0, self.max_tokens - weights.size))
            self._store_idf(weights)
        self._reset_counts()  # the counts are no longer needed once the vocabulary is built

    # ------------------------------------------------------------------ call
    def _lookup_keys(self, keys: Any) -> torch.Tensor:
        """Table indices of ``keys`` (-1 for out-of-vocabulary); overridden by the subclasses."""
        raise NotImplementedError

    def _oov_hash(self, keys: Any, n: int) -> torch.Tensor:
        """Per-key OOV bucket in ``[0, n)`` for several OOV indices; overridden by IntegerLookup."""
        values = keys.reshape(-1).tolist() if isinstance(keys, np.ndarray) else keys
        return torch.as_tensor(hash_buckets(values, n, self.salt)).reshape(np.shape(keys))

    def _is_mask(self, keys: Any) -> torch.Tensor | np.ndarray:
        return keys == self.mask_token

    def _lookup(self, keys: Any, device: torch.device) -> torch.Tensor:
        """Indices of ``keys`` with Keras's mask and OOV rules."""
        indices = self._lookup_keys(keys).to(device)
        oov = indices < 0
        if self.mask_token is not None:
            mask = torch.as_tensor(self._is_mask(keys), device=device)
            oov = oov & ~mask
        if self.num_oov_indices == 0:
            if bool(oov.any()):  # host sync: an error needs the offending values
                host_keys = keys if isinstance(keys, np.ndarray) else keys.cpu().numpy()
                shown = host_keys[oov.cpu().numpy()].tolist()
                raise self._error(
                    "every input in its vocabulary (num_oov_indices=0)",
                    f"out-of-vocabulary values {shown[:10]}",
                    "Consider setting `num_oov_indices=1`.",
                )
        elif self.num_oov_indices == 1:
            indices = torch.where(oov, torch.full_like(indices, self._oov_start_index()), indices)
        else:
            buckets = self._oov_hash(keys, self.num_oov_indices).to(device) + self._oov_start_index()
            indices = torch.where(oov, buckets, indices)
        if self.mask_token is not None:
            # the mask is index 0 in "int" mode and dropped (an index past every depth) by the encodings
            masked_value = 0 if self.output_mode == "int" else _INT64_MAX
            indices = torch.where(mask, torch.full_like(indices, masked_value), indices)
        return indices

    def _encode(self, indices: torch.Tensor) -> torch.Tensor:
        if self.output_mode == "int":
            return indices
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if self.output_mode != "tf_idf":
            # Keras encodes in the lookup's int64 (its eager outputs are int64; the symbolic dtype says float)
            return utils.encode_categorical(indices, self.output_mode, depth, torch.int64)
        counts = utils.encode_categorical(indices, "count", depth, torch.float32)
        if self.idf_weights is None:
            raise self._error("IDF weights in tf_idf mode", "none", "Call `adapt` or `set_vocabulary` first.")
        return counts * self.idf_weights.to(counts.device)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return utils.categorical_output_shape(tuple(input_shape), self.output_mode, depth)

    def compute_output_spec(self, inputs: Any) -> Any:
        dtype = "int64" if self.output_mode == "int" else backend.floatx()
        if self.invert:
            dtype = self.vocabulary_dtype
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype)

    @property
    def compute_dtype(self) -> str:
        return self.vocabulary_dtype

    @property
    def variable_dtype(self) -> str:
        return self.vocabulary_dtype

    # ------------------------------------------------------------------ saving
    def save_own_variables(self, store: dict) -> None:
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            store["idf_weights"] = self.idf_weights.detach().cpu().numpy()

    def load_own_variables(self, store: Any) -> None:
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self._store_idf(np.asarray(store["idf_weights"], dtype=backend.floatx()))

    def save_assets(self, dir_path: str) -> None:
        """Writes the vocabulary as ``vocabulary.txt`` (one term per line), unless it is in the config."""
        if self.input_vocabulary is not None:
            return
        text = "\n".join(str(t) for t in self.get_vocabulary(include_special_tokens=True))
        with atomic_write(os.path.join(dir_path, "vocabulary.txt")) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    def load_assets(self, dir_path: str | None) -> None:
        """Reads ``vocabulary.txt`` back (Keras's reader: ``splitlines``, trailing empty lines dropped)."""
        if self.input_vocabulary is not None:
            return
        path = os.path.join(dir_path or "", "vocabulary.txt")
        if dir_path is None or not os.path.exists(path):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects its vocabulary in the assets of the file '
                f"(vocabulary.txt), but received none. Save the model again with its vocabulary set."
            )
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        values = [self._normalize_token(line) for line in lines]
        if not values:
            return
        if self.output_mode == "tf_idf":
            idf = self.idf_weights.cpu().numpy() if self.idf_weights is not None else None
            self.set_vocabulary(values, idf_weights=idf)
        else:
            self.set_vocabulary(values)

    # ------------------------------------------------------------------ config
    def get_build_config(self) -> dict[str, Any]:
        return {}

    def build_from_config(self, config: dict[str, Any]) -> None:
        self.__dict__["built"] = True

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "invert": self.invert,
                "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices,
                "oov_token": self.oov_token,
                "mask_token": self.mask_token,
                "output_mode": self.output_mode,
                "sparse": self.sparse,
                "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype,
                "idf_weights": utils.listify(self.input_idf_weights),
                "vocabulary": utils.listify(self.input_vocabulary),
                "vocabulary_size": self._frozen_vocab_size,
                "oov_method": self.oov_method,
                "salt": self.salt,
            }
        )
        return config

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, vocabulary_size={self.vocabulary_size()}, output_mode={self.output_mode!r}, "
            f"num_oov_indices={self.num_oov_indices}, invert={self.invert}"
        )
