"""``IntegerLookup``: integers -> vocabulary indices (or encodings), and back with ``invert=True``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina.layers.preprocessing import preprocessing_utils as utils
from lamina.layers.preprocessing.hash_functions import hash_buckets, int_to_hash_key
from lamina.layers.preprocessing.index_lookup import IndexLookup


class IntegerLookup(IndexLookup):
    """Maps integers to contiguous indices from a vocabulary (given, or learned with ``adapt``).

    The lookup runs in torch on the input's device (a sorted-key search), so it works inside
    models on the GPU. Vocabularies, their order after ``adapt`` and every output equal Keras's.

    Args:
        max_tokens: cap on the vocabulary size, mask and OOV indices included (``None``: no cap).
        num_oov_indices: indices for out-of-vocabulary values (several: ``value % num_oov_indices``,
            or a FarmHash of the value with ``oov_method="farmhash"``).
        mask_token: an integer standing for padding: index 0 in ``"int"`` mode, dropped otherwise.
        oov_token: the value ``invert=True`` returns for OOV indices.
        vocabulary: a list/array of integers or the path of a text file with one integer per line.
        vocabulary_dtype: only ``"int64"``.
        idf_weights: for ``output_mode="tf_idf"`` with a given vocabulary: one weight per term.
        invert: map indices back to the vocabulary's integers (``output_mode="int"`` only).
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        sparse: sparse outputs need TensorFlow; only ``False`` is accepted.
        pad_to_max_tokens: encodings are ``max_tokens`` wide even if the vocabulary is smaller.
        oov_method: ``"floormod"`` or ``"farmhash"`` (how several OOV indices are chosen).
        salt: a salt (int or pair) for the ``"farmhash"`` OOV hash (SipHash instead of FarmHash).

    Input shape:
        Any shape of integers.

    Output shape:
        ``"int"``: the input's; ``"one_hot"``: ``(..., vocabulary_size)``; the others ``(batch, vocabulary_size)``.

    Example:
        >>> import lamina
        >>> layer = lamina.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> layer([[12, 1138, 42], [42, 1000, 36]]).tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: int | None = None,
        oov_token: int = -1,
        vocabulary: Any = None,
        vocabulary_dtype: str = "int64",
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        sparse: bool = False,
        pad_to_max_tokens: bool = False,
        oov_method: str = "floormod",
        salt: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                "If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. "
                f"Received: max_tokens={max_tokens}"
            )
        if num_oov_indices < 0:
            raise ValueError(
                "The value of `num_oov_indices` argument for `IntegerLookup` must >= 0. "
                f"Received: num_oov_indices={num_oov_indices}"
            )
        if vocabulary_dtype != "int64":
            raise ValueError(
                "Only `vocabulary_dtype='int64'` is supported at this time. "
                f"Received: vocabulary_dtype={vocabulary_dtype}"
            )
        self.__dict__["_keys_sorted"] = torch.empty(0, dtype=torch.int64)
        self.__dict__["_values_sorted"] = torch.empty(0, dtype=torch.int64)
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            vocabulary_dtype=vocabulary_dtype,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method,
            salt=salt,
            name=name,
            **kwargs,
        )

    def _normalize_token(self, token: Any) -> int:
        if isinstance(token, (str, bytes, np.str_, np.bytes_)):
            text = token.decode() if isinstance(token, (bytes, np.bytes_)) else str(token)
            try:
                return int(text.strip())
            except ValueError:
                raise self._error(
                    "an integer vocabulary", f"the term {token!r}", "IntegerLookup holds integers only.", TypeError
                ) from None
        return int(token)

    def _on_new_table(self) -> None:
        keys = torch.as_tensor(self._tokens, dtype=torch.int64).reshape(-1)
        order = torch.argsort(keys)
        start = self._token_start_index()
        self.__dict__["_keys_sorted"] = keys[order]
        self.__dict__["_values_sorted"] = order + start

    def _as_keys(self, data: Any) -> torch.Tensor:
        utils.check_numeric(data, self, "integer inputs")
        if isinstance(data, torch.Tensor):
            return data.detach().to(torch.int64)
        arr = np.asarray(data)
        if arr.dtype == object:
            utils.check_numeric(arr.reshape(-1)[:1].tolist() or [0], self, "integer inputs")
        return torch.as_tensor(arr.astype(np.int64))

    def _adapt_keys(self, batch: Any) -> np.ndarray:
        return self._as_keys(batch).cpu().numpy()

    def _table_on(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The sorted keys and their indices on ``device`` (copied once per device and table)."""
        cache = self.__dict__.setdefault("_table_cache", {})
        key = (id(self._keys_sorted), str(device))
        if key not in cache:
            cache.clear()
            cache[key] = (self._keys_sorted.to(device), self._values_sorted.to(device))
        return cache[key]

    def _lookup_keys(self, keys: torch.Tensor) -> torch.Tensor:
        sorted_keys, values = self._table_on(keys.device)
        if sorted_keys.numel() == 0:
            return torch.full_like(keys, -1)
        pos = torch.searchsorted(sorted_keys, keys.contiguous()).clamp_(max=sorted_keys.numel() - 1)
        found = sorted_keys[pos] == keys
        return torch.where(found, values[pos], torch.full_like(keys, -1))

    def _oov_hash(self, keys: torch.Tensor, n: int) -> torch.Tensor:
        if self.oov_method != "farmhash":
            return torch.remainder(keys, n)  # floor modulo, as tf.math.floormod
        values = [int_to_hash_key(v) for v in keys.reshape(-1).tolist()]  # host sync: hashing runs in Python
        return torch.as_tensor(hash_buckets(values, n, self.salt), device=keys.device).reshape(keys.shape)

    def call(self, inputs: Any) -> torch.Tensor:
        self._ensure_known_vocab_size()
        keys = self._as_keys(inputs)
        if not isinstance(inputs, torch.Tensor):
            keys = keys.to(utils.output_device(self))
        if self.invert:
            return self._invert(keys)
        return self._encode(self._lookup(keys, keys.device))

    def _invert(self, indices: torch.Tensor) -> torch.Tensor:
        vocab = torch.as_tensor(self.get_vocabulary(), dtype=torch.int64, device=indices.device)
        valid = (indices >= 0) & (indices < vocab.numel())
        safe = torch.where(valid, indices, torch.zeros_like(indices))
        gathered = vocab[safe] if vocab.numel() else torch.zeros_like(indices)
        # index 0 is the mask token when there is one (get_vocabulary put it there)
        return torch.where(valid, gathered, torch.full_like(indices, int(self.oov_token)))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if config["oov_token"] is not None:
            config["oov_token"] = int(config["oov_token"])
        if config["mask_token"] is not None:
            config["mask_token"] = int(config["mask_token"])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
