"""``keras.utils.FeatureSpace``: one object that preprocesses and encodes a dict of structured features.

Built on Lamina's preprocessing layers, so it needs no TensorFlow: ``adapt`` takes a dict of
arrays/lists (one sample per element, read in batches of 32 as Keras's ``tf.data`` path does) or any
iterable of dicts (a DataLoader, a list of batches, a generator), and the layers, their order, the
encodings, the concatenation and the saved file are Keras's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import serialization, tree
from lamina.backend.naming import auto_name
from lamina.layers import (
    CategoryEncoding,
    Discretization,
    HashedCrossing,
    Hashing,
    Input,
    IntegerLookup,
    Layer,
    Normalization,
    Rescaling,
    StringLookup,
    TextVectorization,
)
from lamina.layers.preprocessing import preprocessing_utils
from lamina.ops.operation import KerasTensor
from lamina.saving import saving_api

_MODULE = "keras.src.layers.preprocessing.feature_space"
_ADAPT_BATCH = 32  # Keras batches unbatched samples by 32 before adapting


class Cross:
    """A feature cross: the named features hashed together into ``crossing_dim`` buckets."""

    def __init__(self, feature_names: Any, crossing_dim: int, output_mode: str = "one_hot") -> None:
        if output_mode not in {"int", "one_hot"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot'}. "
                f"Received: output_mode={output_mode}"
            )
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict[str, Any]:
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim, "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Cross:
        return cls(**config)


class Feature:
    """One input feature: its dtype, the layer that preprocesses it, and how its output is encoded."""

    def __init__(self, dtype: str, preprocessor: Any, output_mode: str) -> None:
        if output_mode not in {"int", "one_hot", "float"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot', 'float'}. "
                f"Received: output_mode={output_mode}"
            )
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            preprocessor = serialization.deserialize_keras_object(preprocessor)
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "preprocessor": serialization.serialize_keras_object(self.preprocessor),
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Feature:
        return cls(**config)


class TFDConcat(Layer):
    """Concatenates the encoded features (Keras's internal ``TFDConcat``)."""

    def __init__(self, axis: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, xs: list[torch.Tensor]) -> torch.Tensor:
        dtype = torch.float32 if any(x.is_floating_point() for x in xs) else xs[0].dtype
        return torch.cat([x.to(dtype) for x in xs], dim=self.axis)

    def compute_output_spec(self, xs: list[KerasTensor]) -> KerasTensor:
        shape = list(xs[0].shape)
        widths = [x.shape[self.axis] for x in xs]
        shape[self.axis] = None if any(w is None for w in widths) else sum(widths)
        return KerasTensor(tuple(shape), "float32")

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class TFDIdentity(Layer):
    """Passes a float feature through (Keras's internal ``TFDIdentity``)."""

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def compute_output_spec(self, x: KerasTensor) -> KerasTensor:
        return KerasTensor(x.shape, self.compute_dtype)


def _element_batches(values: Any) -> list[np.ndarray]:
    """One feature's adapt batches from its stacked samples, shaped as Keras's ``tf.data`` path makes them."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values)
    if arr.ndim == 1:  # scalar samples: batches of 32, each (batch, 1)
        return [arr[i : i + _ADAPT_BATCH, None] for i in range(0, len(arr), _ADAPT_BATCH)]
    if arr.ndim == 2:  # rank-1 samples are used one by one, each (n, 1)
        return [row[:, None] for row in arr]
    return list(arr)


def _to_host(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, (list, tuple)):
        return np.asarray(x, dtype=object) if preprocessing_utils.is_string_data(x) else np.asarray(x)
    arr = np.asarray(x)  # arrays, pandas columns, scalars
    return arr if arr.flags.writeable else arr.copy()


class FeatureSpace(Layer):
    """Preprocesses and encodes a dict of structured features (floats, categories, hashes, crosses).

    Args:
        features: ``{name: type}`` where a type is a string (``"float"``, ``"float_normalized"``,
            ``"float_rescaled"``, ``"float_discretized"``, ``"integer_categorical"``,
            ``"string_categorical"``, ``"integer_hashed"``, ``"string_hashed"``) or a feature made by
            the class methods (``FeatureSpace.string_categorical(max_tokens=10)``, ``FeatureSpace.feature``).
        output_mode: ``"concat"`` (one float vector) or ``"dict"`` (one encoded tensor per feature).
        crosses: feature crosses: tuples of names, or ``FeatureSpace.cross(...)``.
        crossing_dim: default bucket count of a cross.
        hashing_dim: default bucket count of ``"*_hashed"`` features.
        num_discretization_bins: default bins of ``"float_discretized"`` features.

    Example:
        >>> import lamina
        >>> from lamina.utils import FeatureSpace
        >>> data = {"price": [1.0, 2.0, 3.0, 4.0], "color": ["red", "blue", "red", "green"]}
        >>> fs = FeatureSpace({"price": "float_normalized", "color": "string_categorical"})
        >>> fs.adapt(data)
        >>> fs({"price": [2.5], "color": ["red"]}).tolist()  # color one-hot ([UNK], red, green, blue), price
        [[0.0, 1.0, 0.0, 0.0, 0.0]]
    """

    @classmethod
    def cross(cls, feature_names: Any, crossing_dim: int, output_mode: str = "one_hot") -> Cross:
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype: str, preprocessor: Any, output_mode: str) -> Feature:
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name: str | None = None) -> Feature:
        name = name or auto_name("float")
        return Feature("float32", TFDIdentity(dtype="float32", name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_rescaled(cls, scale: float = 1.0, offset: float = 0.0, name: str | None = None) -> Feature:
        name = name or auto_name("float_rescaled")
        return Feature("float32", Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_normalized(cls, name: str | None = None) -> Feature:
        name = name or auto_name("float_normalized")
        return Feature("float32", Normalization(axis=-1, name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_discretized(
        cls, num_bins: int, bin_boundaries: Any = None, output_mode: str = "one_hot", name: str | None = None
    ) -> Feature:
        name = name or auto_name("float_discretized")
        layer = Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries, name=f"{name}_preprocessor")
        return Feature("float32", layer, output_mode)

    @classmethod
    def integer_categorical(
        cls,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        output_mode: str = "one_hot",
        name: str | None = None,
    ) -> Feature:
        name = name or auto_name("integer_categorical")
        layer = IntegerLookup(name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices)
        return Feature("int32", layer, output_mode)

    @classmethod
    def string_categorical(
        cls,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        output_mode: str = "one_hot",
        name: str | None = None,
    ) -> Feature:
        name = name or auto_name("string_categorical")
        layer = StringLookup(name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices)
        return Feature("string", layer, output_mode)

    @classmethod
    def string_hashed(cls, num_bins: int, output_mode: str = "one_hot", name: str | None = None) -> Feature:
        name = name or auto_name("string_hashed")
        return Feature("string", Hashing(name=f"{name}_preprocessor", num_bins=num_bins), output_mode)

    @classmethod
    def integer_hashed(cls, num_bins: int, output_mode: str = "one_hot", name: str | None = None) -> Feature:
        name = name or auto_name("integer_hashed")
        return Feature("int32", Hashing(name=f"{name}_preprocessor", num_bins=num_bins), output_mode)

    def __init__(
        self,
        features: dict[str, Any],
        output_mode: str = "concat",
        crosses: list[Any] | None = None,
        crossing_dim: int = 32,
        hashing_dim: int = 32,
        num_discretization_bins: int = 32,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {key: self._standardize_feature(key, value) for key, value in features.items()}
        self.crosses = [self._standardize_cross(c, set(features)) for c in crosses or []]
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        if output_mode not in {"dict", "concat"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'dict', 'concat'}. "
                f"Received: output_mode={output_mode}"
            )
        self.output_mode = output_mode
        self.inputs = {key: Input(shape=(1,), dtype=f.dtype, name=key) for key, f in self.features.items()}
        # the dicts are plain attributes (the saving walk reads them as Keras does: preprocessors/<class>, ...);
        # their layers are registered as submodules under safe names, since feature names may hold dots
        self.__dict__["preprocessors"] = {key: f.preprocessor for key, f in self.features.items()}
        self.encoded_features: Any = None
        self.__dict__["crossers"] = {c.name: HashedCrossing(c.crossing_dim, name=c.name) for c in self.crosses}
        self.__dict__["one_hot_encoders"] = {}
        for layer in [*self.preprocessors.values(), *self.crossers.values()]:
            self._track(layer)
        self.concat: TFDConcat | None = None
        self._is_adapted = False
        self._preprocessed_features_names: list[str] | None = None
        self._crossed_features_names: list[str] | None = None
        self._sublayers_built = False

    def _track(self, layer: Any) -> None:
        if isinstance(layer, Layer) and all(m is not layer for m in self._modules.values()):
            self.add_module(f"_sublayer_{len(self._modules)}", layer)

    def _standardize_feature(self, name: str, feature: Any) -> Feature:
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return serialization.deserialize_keras_object(feature)
        makers = {
            "float": lambda: self.float(name=name),
            "float_normalized": lambda: self.float_normalized(name=name),
            "float_rescaled": lambda: self.float_rescaled(name=name),
            "float_discretized": lambda: self.float_discretized(name=name, num_bins=self.num_discretization_bins),
            "integer_categorical": lambda: self.integer_categorical(name=name),
            "string_categorical": lambda: self.string_categorical(name=name),
            "integer_hashed": lambda: self.integer_hashed(self.hashing_dim, name=name),
            "string_hashed": lambda: self.string_hashed(self.hashing_dim, name=name),
        }
        if not isinstance(feature, str) or feature not in makers:
            raise ValueError(f"Invalid feature type: {feature}")
        return makers[feature]()

    def _standardize_cross(self, cross: Any, names: set[str]) -> Cross:
        if isinstance(cross, dict):
            cross = serialization.deserialize_keras_object(cross)
        if isinstance(cross, Cross):
            return cross
        if not self.crossing_dim:
            raise ValueError(
                "When specifying `crosses`, the argument `crossing_dim` (dimensionality of the crossing space) "
                "should be specified as well."
            )
        unknown = [key for key in cross if key not in names]
        if unknown:
            raise ValueError(
                "All features referenced in the `crosses` argument should be present in the `features` dict. "
                f"Received unknown features: {cross}"
            )
        return Cross(cross, crossing_dim=self.crossing_dim)

    # ------------------------------------------------------------------ adapt
    def _list_adaptable_preprocessors(self) -> list[str]:
        names = []
        for key in self.features:
            layer = self.preprocessors[key]
            if isinstance(layer, Normalization) and layer.input_mean is not None:
                continue
            if isinstance(layer, TextVectorization) and layer._has_input_vocabulary:
                continue
            if hasattr(layer, "adapt"):
                names.append(key)
        return names

    def _feature_batches(self, dataset: Any, key: str) -> list[np.ndarray]:
        if isinstance(dataset, dict):
            return _element_batches(_to_host(dataset[key]))
        elements = [_to_host(e[key]) for e in dataset]
        if elements and elements[0].ndim == 0:  # unbatched samples: batches of 32
            chunks = [elements[i : i + _ADAPT_BATCH] for i in range(0, len(elements), _ADAPT_BATCH)]
            return [np.stack(c)[:, None] for c in chunks]
        return [e[..., None] if e.ndim == 1 else e for e in elements]

    def adapt(self, dataset: Any) -> None:
        """Adapts every adaptable preprocessor (lookups, normalizations, discretizations) to ``dataset``.

        Args:
            dataset: a dict of arrays or lists (one sample per element), or an iterable of dicts (samples
                or batches), e.g. a list of dicts or a DataLoader over a dataset of dicts.

        Raises:
            ValueError: for anything else, or a feature missing from the data.
        """
        if not isinstance(dataset, dict):
            if not hasattr(dataset, "__iter__") or isinstance(dataset, (str, bytes)):
                raise ValueError(
                    "`adapt()` can only be called on a dataset of dicts or a dict of arrays/lists. "
                    f"Received instead: {dataset} (of type {type(dataset)})"
                )
            dataset = list(dataset)  # read once, used once per feature
            if dataset and not isinstance(dataset[0], dict):
                raise ValueError(
                    "`adapt()` expects a dataset of dicts (feature name -> values). "
                    f"Received elements of type {type(dataset[0]).__name__}."
                )
        for key in self._list_adaptable_preprocessors():
            try:
                batches = self._feature_batches(dataset, key)
            except KeyError:
                raise ValueError(
                    f'FeatureSpace "{self.name}" expects the feature {key!r} in the data passed to adapt(), '
                    f"but received only {sorted(dataset if isinstance(dataset, dict) else dataset[0])}."
                ) from None
            layer = self.preprocessors[key]
            if batches and not layer.built and isinstance(layer, Normalization):
                # Keras adapts from a tf.data dataset, whose batch axis is unknown: build with None, as it does
                layer._maybe_build((None, *np.shape(batches[0])[1:]))
            layer.adapt(iter(batches))
        self._is_adapted = True
        self.get_encoded_features()  # builds the encoders and the concatenation
        self.built = True
        self._sublayers_built = True

    # ------------------------------------------------------------------ graph
    def get_inputs(self) -> dict[str, KerasTensor]:
        """The ``Input`` of each feature (shape ``(None, 1)``), for a functional model."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self) -> Any:
        """The encoded features as symbolic tensors (a vector in ``"concat"`` mode, else a dict)."""
        self._check_if_adapted()
        if self.encoded_features is None:
            preprocessed = self._preprocess_features(self.inputs)
            crossed = self._cross_features(preprocessed)
            self.encoded_features = self._merge_features(preprocessed, crossed)
        return self.encoded_features

    def _preprocess_features(self, features: dict[str, Any]) -> dict[str, Any]:
        return {key: self.preprocessors[key](features[key]) for key in features}

    def _cross_features(self, features: dict[str, Any]) -> dict[str, Any]:
        return {c.name: self.crossers[c.name]([features[n] for n in c.feature_names]) for c in self.crosses}

    def _merge_features(self, preprocessed: dict[str, Any], crossed: dict[str, Any]) -> Any:
        if not self._preprocessed_features_names:
            self._preprocessed_features_names = sorted(preprocessed)
            self._crossed_features_names = sorted(crossed)
        names = self._preprocessed_features_names + self._crossed_features_names
        values = [preprocessed[n] for n in self._preprocessed_features_names] + [
            crossed[n] for n in self._crossed_features_names
        ]
        if self._sublayers_built:
            encoded = [self.one_hot_encoders[n](v) if n in self.one_hot_encoders else v for n, v in zip(names, values)]
            return dict(zip(names, encoded)) if self.output_mode == "dict" else self.concat(encoded)
        specs = [self.features[n] for n in self._preprocessed_features_names] + [
            self.crosses_by_name[n] for n in self._crossed_features_names
        ]
        out: dict[str, Any] = {}
        for name, value, spec in zip(names, values, specs):
            out[name] = self._encode_first_time(name, value, spec)
        if self.output_mode == "dict":
            return out
        self.concat = TFDConcat(axis=-1)
        return self.concat(list(out.values()))

    def _encode_first_time(self, name: str, value: Any, spec: Any) -> Any:
        """Creates the feature's one-hot encoder (if its output mode asks for one) and checks concat-ability."""
        dtype = tree.flatten(value)[0].dtype
        if spec.output_mode == "one_hot":
            layer = self.preprocessors.get(name) or self.crossers.get(name)
            if not str(dtype).startswith("int"):
                raise ValueError(
                    f"Feature '{name}' has `output_mode='one_hot'`. Thus its preprocessor should return an "
                    f"integer dtype. Instead it returns a {dtype} dtype."
                )
            if isinstance(layer, (IntegerLookup, StringLookup)):
                cardinality = layer.vocabulary_size()
            elif isinstance(layer, CategoryEncoding):
                cardinality = layer.num_tokens
            elif isinstance(layer, (Discretization, HashedCrossing, Hashing)):
                cardinality = layer.num_bins
            else:
                raise ValueError(
                    f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a standard feature and the "
                    "dimensionality of its output space is not known, thus it cannot be one-hot encoded. "
                    "Try using `output_mode='int'`."
                )
            encoder = CategoryEncoding(num_tokens=cardinality, output_mode="multi_hot")
            self.one_hot_encoders[name] = encoder
            self._track(encoder)
            value = encoder(value)
        if self.output_mode == "concat":
            dtype = str(tree.flatten(value)[0].dtype)
            if dtype.startswith("int") or dtype == "string":
                raise ValueError(
                    f"Cannot concatenate features because feature '{name}' has not been encoded (it has dtype "
                    f"{dtype}). Consider using `output_mode='dict'`."
                )
        return value

    def _check_if_adapted(self) -> None:
        if not self._is_adapted:
            if not self._list_adaptable_preprocessors():
                self._is_adapted = True
            else:
                raise ValueError(
                    "You need to call `.adapt(dataset)` on the FeatureSpace before you can start using it."
                )

    def _check_if_built(self) -> None:
        if not self._sublayers_built:
            self._check_if_adapted()
            self.get_encoded_features()
            self._sublayers_built = True

    # ------------------------------------------------------------------ call
    def __call__(self, data: dict[str, Any]) -> Any:
        self._check_if_built()
        if not isinstance(data, dict):
            raise ValueError(
                f"A FeatureSpace can only be called with a dict. Received: data={data} (of type {type(data)}"
            )
        data = {key: _to_host(value) for key, value in data.items()}
        rebatched = False
        for key, x in data.items():
            if x.ndim == 0:
                data[key] = x.reshape(1, 1)
                rebatched = True
            elif x.ndim == 1:
                data[key] = x[:, None]
        preprocessed = self._preprocess_features(data)
        merged = self._merge_features(preprocessed, self._cross_features(preprocessed))
        if rebatched:
            if self.output_mode == "concat":
                if merged.shape[0] != 1:
                    raise ValueError(f"Expected rebatched data to have batch size 1. Received: shape={merged.shape}")
                merged = merged.squeeze(0)
            else:
                merged = {k: v.squeeze(0) if v.ndim == 2 and v.shape[0] == 1 else v for k, v in merged.items()}
        return merged

    # ------------------------------------------------------------------ config and saving
    def get_config(self) -> dict[str, Any]:
        return {
            "features": serialization.serialize_keras_object(self.features),
            "output_mode": self.output_mode,
            "crosses": serialization.serialize_keras_object(self.crosses),
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FeatureSpace:
        return cls(**config)

    def get_build_config(self) -> dict[str, Any]:
        return {key: f.preprocessor.get_build_config() for key, f in self.features.items()}

    def build_from_config(self, config: dict[str, Any]) -> None:
        for key in config:
            layer = self.features[key].preprocessor
            if not layer.built:
                layer.build_from_config(config[key])
        self._is_adapted = True

    def save(self, filepath: Any) -> None:
        """Saves the FeatureSpace as a ``.keras`` file (reload it with ``lamina.saving.load_model``)."""
        saving_api.save_model(self, filepath)

    def save_own_variables(self, store: dict) -> None:
        return

    def load_own_variables(self, store: Any) -> None:
        return

    def extra_repr(self) -> str:
        return f"features={list(self.features)}, output_mode={self.output_mode!r}"


serialization.register_builtins(
    _MODULE,
    {"Cross": Cross, "Feature": Feature, "TFDConcat": TFDConcat, "TFDIdentity": TFDIdentity},
    self_registered=True,
)
serialization.register_builtins("keras.utils", {"FeatureSpace": FeatureSpace})

__all__ = ["Cross", "Feature", "FeatureSpace", "TFDConcat", "TFDIdentity"]
