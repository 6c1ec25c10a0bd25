"""``TextVectorization``: raw strings -> token indices or bag-of-words encodings, without TensorFlow.

Each step reproduces the TensorFlow op Keras uses, so vocabularies and outputs are Keras's:

* ``"lower"`` is ``tf.strings.lower``: ASCII letters only (``"É"`` stays ``"É"``);
* ``"strip_punctuation"`` deletes what Keras's regex ``[!"#$%&()\\*\\+,-\\./:;<=>?@\\[\\\\\\]^_`{|}~\\']``
  matches: the 32 ASCII punctuation characters;
* ``"whitespace"`` splitting is ``tf.strings.split``: runs of ASCII whitespace (space, ``\\t \\n \\v \\f \\r``);
  ``"character"`` splitting gives Unicode code points;
* ``ngrams`` are ``tf.strings.ngrams`` with ``" "``: all 1-grams, then all 2-grams, ... (in ``ngrams`` order);
* the vocabulary is a ``StringLookup`` with ``mask_token=""`` (index 0 pads, 1 is ``"[UNK]"``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch

from lamina import serialization
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import preprocessing_utils as utils
from lamina.layers.preprocessing.preprocessing_utils import _validate_string_arg, iterate_adapt_batches, listify
from lamina.layers.preprocessing.string_lookup import StringLookup
from lamina.ops.operation import KerasTensor

_PUNCTUATION = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"
_STRIP_PUNCTUATION = str.maketrans("", "", _PUNCTUATION)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_TOKEN = re.compile(r"[^ \t\n\v\f\r]+")  # a run of anything but ASCII whitespace
_SEPARATORS = re.compile("[\x1c-\x1f]")  # str.split() also splits on these; TensorFlow does not


def _split_whitespace(text: str) -> list[str]:
    # str.split() is the same split for ASCII text without the \x1c-\x1f separators, and much faster
    return text.split() if text.isascii() and not _SEPARATORS.search(text) else _TOKEN.findall(text)


def _lower(text: str) -> str:
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _ngrams(tokens: list[str], widths: tuple[int, ...]) -> list[str]:
    out: list[str] = []
    for n in widths:
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


class TextVectorization(Layer):
    """Turns raw strings into integer token sequences or bag-of-words vectors.

    Text goes through standardize -> split -> ngrams -> vocabulary lookup. The vocabulary is given
    or learned with ``adapt``; without TensorFlow, text arrives as NumPy arrays or lists of Python
    strings. Vocabularies (including the order of equally frequent tokens) and outputs equal Keras's.

    Args:
        max_tokens: cap on the vocabulary size, padding and OOV included (``None``: no cap).
        standardize: ``"lower_and_strip_punctuation"``, ``"lower"``, ``"strip_punctuation"``, ``None``
            or a callable taking a NumPy array of strings and returning one (as Keras on non-TF backends).
        split: ``"whitespace"``, ``"character"``, ``None`` (each string is one token) or a callable
            taking a 1-D array of strings and returning one list of tokens per string.
        ngrams: ``None``, an int ``n`` (all 1..n-grams) or a tuple of widths.
        output_mode: ``"int"``, ``"multi_hot"``, ``"count"``, ``"tf_idf"`` or ``"one_hot"``.
        output_sequence_length: in ``"int"`` mode, pad or cut every sequence to this length.
        pad_to_max_tokens: bag-of-words outputs are ``max_tokens`` wide.
        vocabulary: a list of strings or the path of a text file with one token per line.
        idf_weights: for ``"tf_idf"`` with a given vocabulary.
        sparse / ragged: need TensorFlow; only ``False`` is accepted.
        encoding: how bytes inputs are decoded.

    Input shape:
        ``(batch,)`` or ``(batch, 1)`` strings (a scalar is one text).

    Output shape:
        ``"int"``: ``(batch, output_sequence_length)`` (or the longest text); the others
        ``(batch, vocabulary_size)``.

    Example:
        >>> import lamina
        >>> layer = lamina.layers.TextVectorization(output_sequence_length=4)
        >>> layer.adapt(["The cat sat.", "The dog ate!"])
        >>> layer.get_vocabulary()
        ['', '[UNK]', 'the', 'sat', 'dog', 'cat', 'ate']
        >>> layer(["the cat ran"]).tolist()
        [[2, 5, 1, 0]]
    """

    _autocast_inputs = False

    def __init__(
        self,
        max_tokens: int | None = None,
        standardize: Any = "lower_and_strip_punctuation",
        split: Any = "whitespace",
        ngrams: int | tuple[int, ...] | None = None,
        output_mode: str = "int",
        output_sequence_length: int | None = None,
        pad_to_max_tokens: bool = False,
        vocabulary: Any = None,
        idf_weights: Any = None,
        sparse: bool = False,
        ragged: bool = False,
        encoding: str = "utf-8",
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        caller = "TextVectorization"
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        if ragged:
            raise ValueError("`ragged=True` can only be used with the TensorFlow backend.")
        if not (standardize is None or callable(standardize)):
            _validate_string_arg(
                standardize, ("lower_and_strip_punctuation", "lower", "strip_punctuation"), caller, "standardize"
            )
        if not (split is None or callable(split)):
            _validate_string_arg(split, ("whitespace", "character"), caller, "split")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        _validate_string_arg(output_mode, ("int", "one_hot", "multi_hot", "count", "tf_idf"), caller, "output_mode")
        if not (
            ngrams is None
            or isinstance(ngrams, int)
            or (isinstance(ngrams, tuple) and all(isinstance(item, int) for item in ngrams))
        ):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}")
        if output_mode == "int" and not (output_sequence_length is None or isinstance(output_sequence_length, int)):
            raise ValueError(
                "`output_sequence_length` must be either None or an integer when `output_mode` is 'int'. "
                f"Received: output_sequence_length={output_sequence_length}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                "`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                f"Received output_sequence_length={output_sequence_length}."
            )
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self.__dict__["_mixed"] = False  # outputs in the variable dtype under a mixed policy, as Keras's
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._has_input_vocabulary = has_input_vocabulary
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            sparse=sparse,
            has_input_vocabulary=has_input_vocabulary,
            encoding=encoding,
            vocabulary_size=vocabulary_size,
        )

    @property
    def compute_dtype(self) -> str:
        return "string"

    @property
    def variable_dtype(self) -> str:
        return "string"

    def build(self, input_shape: Any = None) -> None:
        self.built = True

    # ------------------------------------------------------------------ text -> tokens
    def _convert_inputs(self, x: Any) -> Any:
        return utils.to_string_array(x, self, self._encoding)

    def _standardized(self, texts: np.ndarray) -> np.ndarray:
        mode = self._standardize
        if callable(mode):
            # a NumPy array of unicode strings in, as Keras hands it on non-TensorFlow backends
            result = mode(texts.astype(str) if texts.size else np.asarray(texts, dtype=str))
            return utils.to_string_array(listify(result), self, self._encoding)
        if mode is None:
            return texts
        out = np.empty(texts.shape, dtype=object)
        flat, dest = texts.reshape(-1), out.reshape(-1)
        lower = mode in ("lower", "lower_and_strip_punctuation")
        strip = mode in ("strip_punctuation", "lower_and_strip_punctuation")
        for i, text in enumerate(flat):
            if lower:
                text = _lower(text)
            if strip:
                text = text.translate(_STRIP_PUNCTUATION)
            dest[i] = text
        return out

    def _split_rows(self, texts: np.ndarray) -> list[list[str]]:
        if self._split == "whitespace":
            return [_split_whitespace(t) for t in texts]
        if self._split == "character":
            return [list(t) for t in texts]
        rows = self._split(texts)
        return [[str(tok) for tok in listify(row)] for row in listify(rows)]

    def _preprocess(self, inputs: Any) -> tuple[Any, bool, tuple]:
        """Standardized, split, n-grammed text: ``(rows, ragged, batch_shape)``.

        ``ragged`` rows are token lists (one per text, after splitting); otherwise ``rows`` is a dense
        object array (no splitting: every string is one token).
        """
        texts = self._standardized(utils.to_string_array(inputs, self, self._encoding))
        if self._split is None:
            if self._ngrams is not None:  # n-grams along the last axis, as tf.strings.ngrams on dense text
                texts = texts.reshape(1) if texts.ndim == 0 else texts
                rows = [_ngrams(list(r), self._ngrams) for r in texts.reshape(-1, texts.shape[-1])]
                grams = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
                for i, r in enumerate(rows):
                    grams[i, :] = r
                texts = grams.reshape((*texts.shape[:-1], grams.shape[1]))
            return texts, False, texts.shape
        if texts.ndim > 1:
            if texts.shape[-1] != 1:
                raise ValueError(
                    "When using `TextVectorization` to tokenize strings, the input rank must be 1 or the last "
                    f"shape dimension must be 1. Received: inputs.shape={texts.shape} with rank={texts.ndim}"
                )
            texts = texts[..., 0]
        if texts.ndim > 1:
            raise self._error(
                "texts of shape (batch,) or (batch, 1)", f"shape {texts.shape + (1,)}", "Reshape the text batch."
            )
        batch_shape = texts.shape
        rows = self._split_rows(texts.reshape(-1))
        if self._ngrams is not None:
            rows = [_ngrams(r, self._ngrams) for r in rows]
        return rows, True, batch_shape

    # ------------------------------------------------------------------ vocabulary
    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learns the vocabulary (and TF-IDF weights) from ``data``.

        Args:
            data: a NumPy array or list of strings, or an iterable of batches of strings (a generator,
                a DataLoader, ``text_dataset_from_directory(...).map(lambda x, y: x)``).
            batch_size: unused (Keras's argument).
            steps: how many batches of an iterable to read.

        Raises:
            ValueError: for empty data, or a layer built with a fixed vocabulary.
        """
        self.reset_state()
        single = (list, tuple, np.ndarray, str, bytes)
        seen = 0
        for batch in iterate_adapt_batches(data, steps, single):
            if batch is data and not isinstance(data, (str, bytes)):
                batch = utils.to_string_array(batch, self, self._encoding)
                if batch.ndim == 1:
                    batch = batch[:, None]  # each string of a flat array is one document
            seen += int(np.size(batch)) if not isinstance(batch, (str, bytes)) else 1
            self.update_state(batch)
        if seen == 0:
            raise ValueError(
                f'Layer "{self.name}" (TextVectorization) cannot adapt on empty data: it received no text. '
                "Pass a non-empty array, list or dataset of strings."
            )
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        rows, ragged, _ = self._preprocess(data)
        if ragged:
            self._lookup_layer._update_from_rows(rows)
        else:
            self._lookup_layer._update_from_keys(rows)

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The vocabulary in index order (``""`` and ``"[UNK]"`` first unless ``include_special_tokens=False``)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The vocabulary size, padding and OOV tokens included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Sets the vocabulary (a list, array or file path) and, for ``"tf_idf"``, the IDF weights."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ------------------------------------------------------------------ call
    def call(self, inputs: Any) -> torch.Tensor:
        lookup = self._lookup_layer
        lookup._ensure_known_vocab_size()
        rows, ragged, batch_shape = self._preprocess(inputs)
        device = utils.output_device(lookup)
        if not ragged:
            out = lookup._encode(lookup._lookup(rows, device))
            return self._fit_length(out) if self._output_mode == "int" else out
        lengths = [len(r) for r in rows]
        flat = np.empty(sum(lengths), dtype=object)
        flat[:] = [tok for r in rows for tok in r]
        indices = lookup._lookup(flat, torch.device("cpu")).numpy()
        if self._output_mode in ("int", "one_hot"):
            width = max(lengths, default=0) if self._output_sequence_length is None else self._output_sequence_length
            padded = np.zeros((len(rows), width), dtype=np.int64)
            valid = np.zeros((len(rows), width), dtype=bool)
            offsets = np.cumsum([0, *lengths])
            for i, n in enumerate(lengths):
                m = min(n, width)
                padded[i, :m] = indices[offsets[i] : offsets[i] + m]
                valid[i, :m] = True
            out = torch.from_numpy(padded.reshape((*batch_shape, width))).to(device)
            if self._output_mode == "one_hot":  # padding positions encode to all-zero rows
                depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup._frozen_vocab_size
                out = torch.where(torch.from_numpy(valid).to(device).reshape(out.shape), out, -1)
                out = utils.encode_categorical(out.unsqueeze(-1), "one_hot", depth, torch.int64)
            return out
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup._frozen_vocab_size
        row_ids = np.repeat(np.arange(len(rows)), lengths)
        dtype = torch.float32 if self._output_mode == "tf_idf" else torch.int64
        out = utils.flat_counts(row_ids, indices, len(rows), depth, dtype, device)
        if self._output_mode == "multi_hot":
            out = (out > 0).to(dtype)
        elif self._output_mode == "tf_idf":
            out = out * lookup.idf_weights.to(device)
        return out.reshape((*batch_shape, depth))

    def _fit_length(self, out: torch.Tensor) -> torch.Tensor:
        """Keras's trim/pad of the last axis to ``output_sequence_length`` for unsplit text."""
        length = self._output_sequence_length
        if length is None:
            return out
        out = out[..., :length]
        if out.shape[-1] < length:
            out = torch.nn.functional.pad(out, (0, length - out.shape[-1]))
        return out

    def compute_output_shape(self, input_shape: Any) -> tuple:
        input_shape = tuple(input_shape)
        if self._output_mode == "int":
            if self._split is None:
                if not input_shape:
                    return input_shape
                last = input_shape[-1] if self._output_sequence_length is None else self._output_sequence_length
                return (*input_shape[:-1], last)
            return (input_shape[0] if input_shape else None, self._output_sequence_length)
        lookup = self._lookup_layer
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup._frozen_vocab_size
        if self._split is None:
            return utils.categorical_output_shape(input_shape, self._output_mode, depth)
        batch = input_shape[:1]
        if self._output_mode == "one_hot":
            return (*batch, None, depth)
        return (*batch, depth)

    def compute_output_spec(self, inputs: Any) -> KerasTensor:
        dtype = "int64" if self._output_mode == "int" else "float32"
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype)

    # ------------------------------------------------------------------ saving
    def save_own_variables(self, store: dict) -> None:
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store: Any) -> None:
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path: str) -> None:
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path: str | None) -> None:
        self._lookup_layer.load_assets(dir_path)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        lookup = self._lookup_layer

        def fn(value: Any) -> Any:
            return serialization.serialize_keras_object(value) if callable(value) else value

        config = super().get_config()
        config.update(
            {
                "max_tokens": lookup.max_tokens,
                "standardize": fn(self._standardize),
                "split": fn(self._split),
                "ngrams": self._ngrams_arg,
                "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": lookup.pad_to_max_tokens,
                "sparse": lookup.sparse,
                "ragged": self._ragged,
                "vocabulary": listify(lookup.input_vocabulary),
                "idf_weights": listify(lookup.input_idf_weights),
                "encoding": self._encoding,
                "vocabulary_size": self.vocabulary_size(),
            }
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TextVectorization:
        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str):
                config[key] = serialization.deserialize_keras_object(config[key])
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return super().from_config(config)

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, vocabulary_size={self.vocabulary_size()}, output_mode={self._output_mode!r}, "
            f"output_sequence_length={self._output_sequence_length}"
        )
