"""``StringLookup``: strings -> vocabulary indices (or encodings), and back with ``invert=True``."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch

from lamina.layers.preprocessing import preprocessing_utils as utils
from lamina.layers.preprocessing.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Maps strings to integer indices from a vocabulary (given, or learned with ``adapt``).

    Works without TensorFlow: text arrives as NumPy arrays or lists of Python strings (bytes are
    decoded with ``encoding``) and the indices come back as torch ``int64`` tensors. Vocabularies,
    their order after ``adapt`` and every output equal Keras's.

    Args:
        max_tokens: cap on the vocabulary size, mask and OOV indices included (``None``: no cap).
        num_oov_indices: indices for out-of-vocabulary strings (several: by hash of the string).
        mask_token: a string standing for padding: index 0 in ``"int"`` mode, dropped otherwise.
        oov_token: the string ``invert=True`` returns for OOV indices.
        vocabulary: a list/array of strings or the path of a text file with one string per line.
        idf_weights: for ``output_mode="tf_idf"`` with a given vocabulary: one weight per term.
        invert: map indices back to strings (``output_mode="int"`` only); returns a NumPy array.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: encodings are ``max_tokens`` wide even if the vocabulary is smaller.
        sparse: sparse outputs need TensorFlow; only ``False`` is accepted.
        encoding: how bytes inputs are decoded.
        salt: a salt (int or pair) for the OOV hash (SipHash instead of FarmHash).

    Input shape:
        Any shape of strings. ``"multi_hot"``/``"count"``/``"tf_idf"`` treat axis 1 as the sample axis
        (a 1-D input is one sample).

    Output shape:
        ``"int"``: the input's; ``"one_hot"``: ``(..., vocabulary_size)``; the others ``(batch, vocabulary_size)``.

    Example:
        >>> import lamina
        >>> layer = lamina.layers.StringLookup(vocabulary=["a", "b", "c"])
        >>> layer([["a", "c"], ["d", "b"]]).tolist()
        [[1, 3], [0, 2]]
        >>> lamina.layers.StringLookup(vocabulary=["a", "b", "c"], invert=True)([[1, 0]]).tolist()
        [['a', '[UNK]']]
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: str | None = None,
        oov_token: str = "[UNK]",
        vocabulary: Any = None,
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        encoding: str = "utf-8",
        name: str | None = None,
        salt: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("vocabulary_dtype", None)  # always "string"
        self.__dict__["encoding"] = encoding  # before the base class sets the vocabulary
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            name=name,
            salt=salt,
            vocabulary_dtype="string",
            **kwargs,
        )

    def _normalize_token(self, token: Any) -> str:
        if isinstance(token, (bytes, np.bytes_)):
            return bytes(token).decode(self.encoding)
        return str(token)

    def _convert_inputs(self, x: Any) -> Any:
        if utils.is_string_data(x):
            return utils.to_string_array(x, self, self.encoding)
        return super()._convert_inputs(x)

    def _adapt_keys(self, batch: Any) -> np.ndarray:
        return utils.to_string_array(batch, self, self.encoding)

    def _lookup_keys(self, keys: np.ndarray) -> torch.Tensor:
        flat = keys.reshape(-1).tolist()
        found = np.fromiter(map(self._table.get, flat, itertools.repeat(-1)), dtype=np.int64, count=len(flat))
        return torch.from_numpy(found.reshape(keys.shape))

    def _is_mask(self, keys: np.ndarray) -> np.ndarray:
        return np.asarray(keys == self.mask_token, dtype=bool)

    def call(self, inputs: Any) -> Any:
        self._ensure_known_vocab_size()
        if self.invert:
            return self._invert(inputs)
        keys = utils.to_string_array(inputs, self, self.encoding)
        return self._encode(self._lookup(keys, utils.output_device(self)))

    def _invert(self, inputs: Any) -> np.ndarray:
        utils.check_numeric(inputs, self, "integer indices (invert=True)")
        indices = np.asarray(inputs.detach().cpu() if isinstance(inputs, torch.Tensor) else inputs, dtype=np.int64)
        vocab = np.empty(self.vocabulary_size(), dtype=object)
        vocab[:] = self.get_vocabulary()
        valid = (indices >= 0) & (indices < len(vocab))
        out = np.full(indices.shape, self.oov_token, dtype=object)
        out[valid] = vocab[indices[valid]]  # index 0 is the mask token when there is one
        return out

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["vocabulary_dtype"]  # the only dtype for strings; Keras does not write it
        config["encoding"] = self.encoding
        return config
