"""``SKLearnClassifier``, ``SKLearnRegressor``, ``SKLearnTransformer``: Lamina models as scikit-learn estimators.

They follow Keras's wrappers: the model is a compiled ``Model`` (cloned for each ``fit`` unless
``warm_start``) or a function ``model(X=..., y=..., **model_kwargs)`` building one; classifiers one-hot encode
the labels and decode predictions. scikit-learn (>= 1.6) is needed to use them and is imported with this
module: the classes derive from scikit-learn's ``BaseEstimator`` and mixins.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from lamina.models import Model, clone_model

try:  # an optional dependency: the classes exist without it and say what to install when used
    import sklearn
    import sklearn.pipeline
    import sklearn.preprocessing
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
except ImportError:
    sklearn = None

    class BaseEstimator:  # noqa: D101 - placeholders so the module imports without scikit-learn
        pass

    class ClassifierMixin:
        pass

    class RegressorMixin:
        pass

    class TransformerMixin:
        pass


def _require_sklearn(name: str) -> None:
    if sklearn is None:
        raise ImportError(
            f"{name} requires `scikit-learn` to be installed. Run `pip install scikit-learn` to install it."
        )


def _validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
    from sklearn.utils.validation import validate_data

    return validate_data(estimator, *args, **kwargs)


def _type_of_target(y: Any) -> str:
    from sklearn.utils.multiclass import type_of_target

    target_type = type_of_target(y)
    if target_type == "unknown":
        raise ValueError(f"Unknown label type for data: {y!r}")
    return target_type


def _check_model(model: Any) -> None:
    if not isinstance(model, Model):
        raise TypeError(f"`model` must be (or build) a Keras `Model`. Received: {model!r}")
    if not getattr(model, "compiled", False) or getattr(model, "loss", None) is None or model.optimizer is None:
        raise RuntimeError("Given model needs to be compiled, and have a loss and an optimizer.")


class TargetReshaper(TransformerMixin, BaseEstimator):
    """Makes 1-D targets 2-D (``(n,) -> (n, 1)``) and back, for encoders that need 2-D input."""

    def fit(self, y: np.ndarray) -> TargetReshaper:
        self.ndim_ = y.ndim
        return self

    def transform(self, y: np.ndarray) -> np.ndarray:
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def inverse_transform(self, y: np.ndarray) -> np.ndarray:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if self.ndim_ == 1 and y.ndim == 2:
            return np.squeeze(y, axis=1)
        return y


class SKLBase(BaseEstimator):
    """What the three wrappers share: building or cloning the model, ``fit`` and ``predict``.

    Args:
        {{sklearn_args}}
    """

    def __init__(
        self,
        model: Any,
        warm_start: bool = False,
        model_kwargs: dict[str, Any] | None = None,
        fit_kwargs: dict[str, Any] | None = None,
    ) -> None:
        _require_sklearn(type(self).__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def __sklearn_clone__(self) -> SKLBase:
        """A copy for ``sklearn.base.clone``: a model instance is deep-copied, a model function shared."""
        model = self.model if callable(self.model) and not isinstance(self.model, Model) else copy.deepcopy(self.model)
        return type(self)(
            model=model, warm_start=self.warm_start, model_kwargs=self.model_kwargs, fit_kwargs=self.fit_kwargs
        )

    @property
    def epoch_(self) -> int:
        """The number of epochs the last ``fit`` ran."""
        history = getattr(self, "history_", None)
        return len(getattr(history, "epoch", [])) if history is not None else 0

    def _get_model(self, X: np.ndarray, y: np.ndarray) -> Model:
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            return clone_model(self.model)
        if not callable(self.model):
            raise TypeError(f"`model` must be a Keras `Model` or a function returning one. Received: {self.model!r}")
        return self.model(X=X, y=y, **(self.model_kwargs or {}))

    def fit(self, X: Any, y: Any, **kwargs: Any) -> SKLBase:
        """Trains a model on ``X`` (``(n_samples, n_features)``) and ``y``; ``kwargs`` go to ``Model.fit``."""
        X, y = _validate_data(self, X, y)
        y = self._process_target(y, reset=True)
        model = self._get_model(X, y)
        if isinstance(self.model, Model) and model is not self.model and not getattr(model, "compiled", False):
            # clone_model copies the architecture only; the given model's compile settings carry over
            config = self.model.get_compile_config()
            if config is not None:
                model.compile_from_config(config)  # a fresh optimizer with the same settings
        _check_model(model)
        fit_kwargs = dict(self.fit_kwargs or {})
        fit_kwargs.update(kwargs)
        fit_kwargs.setdefault("verbose", 0)
        self.history_ = model.fit(X, y, **fit_kwargs)
        self.model_ = model
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The model's predictions for ``X`` (class labels for a classifier)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self._reverse_process_target(self.model_.predict(X, verbose=0))

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        _type_of_target(y)
        if reset:
            self._target_encoder = TargetReshaper().fit(y)
        return self._target_encoder.transform(y)

    def _reverse_process_target(self, y: np.ndarray) -> np.ndarray:
        return self._target_encoder.inverse_transform(y)


_SKLEARN_ARGS = """model: a compiled ``Model`` (cloned, with its compile settings, before each fit unless
            ``warm_start``), or a function taking ``X`` and ``y`` (and ``model_kwargs``) as keyword arguments and
            returning a compiled model.
        warm_start: keep training the model of the previous ``fit`` instead of a fresh one.
        model_kwargs: keyword arguments for ``model`` when it is a function.
        fit_kwargs: keyword arguments for ``Model.fit`` (``epochs``, ``batch_size``...); those given to the
            wrapper's ``fit`` take precedence."""


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A scikit-learn classifier around a Lamina model: labels are one-hot encoded for training, and
    ``predict`` returns labels (``decision_function`` the raw outputs).

    Args:
        {{sklearn_args}}

    Attributes:
        model_: the fitted model.
        history_: the ``History`` of the last ``fit``.
        classes_: the class labels seen by ``fit``.

    Example:
        >>> import numpy as np, lamina
        >>> from lamina.wrappers import SKLearnClassifier
        >>> def build(X, y):
        ...     head = lamina.layers.Dense(y.shape[1], activation="softmax")
        ...     model = lamina.Sequential([lamina.Input((X.shape[1],)), head])
        ...     model.compile(optimizer="adam", loss="categorical_crossentropy")
        ...     return model
        >>> X, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
        >>> clf = SKLearnClassifier(model=build, fit_kwargs={"epochs": 2}).fit(X, y)
        >>> clf.classes_.tolist(), clf.predict(X[:4]).shape
        ([0, 1], (4,))
    """

    def decision_function(self, X: Any) -> np.ndarray:
        """The model's raw outputs for ``X``."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self.model_.predict(X, verbose=0)

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        target_type = _type_of_target(y)
        if target_type not in ("binary", "multiclass"):
            raise ValueError(f"Only binary and multiclass target types are supported. Target type: {target_type}")
        if reset:
            self._target_encoder = sklearn.pipeline.make_pipeline(
                TargetReshaper(), sklearn.preprocessing.OneHotEncoder(sparse_output=False)
            ).fit(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class is present.")
        return self._target_encoder.transform(y)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A scikit-learn regressor around a Lamina model (1-D targets are reshaped to ``(n, 1)`` and back).

    Args:
        {{sklearn_args}}

    Attributes:
        model_: the fitted model.
        history_: the ``History`` of the last ``fit``.

    Example:
        >>> import numpy as np, lamina
        >>> from lamina.wrappers import SKLearnRegressor
        >>> def build(X, y):
        ...     model = lamina.Sequential([lamina.Input((X.shape[1],)), lamina.layers.Dense(1)])
        ...     model.compile(optimizer="sgd", loss="mse")
        ...     return model
        >>> X = np.random.default_rng(0).random((16, 3))
        >>> SKLearnRegressor(model=build).fit(X, X.sum(axis=1)).predict(X[:2]).shape
        (2,)
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLBase):
    """A scikit-learn transformer around a Lamina model: ``transform(X)`` is the model's output (for example
    an embedding to feed another estimator). Not a transformer in the deep-learning sense.

    Args:
        {{sklearn_args}}

    Attributes:
        model_: the fitted model.
        history_: the ``History`` of the last ``fit``.

    Example:
        >>> import numpy as np, lamina
        >>> from lamina.wrappers import SKLearnTransformer
        >>> def build(X, y):
        ...     model = lamina.Sequential([lamina.Input((X.shape[1],)), lamina.layers.Dense(1)])
        ...     model.compile(optimizer="sgd", loss="mse")
        ...     return model
        >>> X = np.random.default_rng(0).random((8, 3))
        >>> SKLearnTransformer(model=build).fit(X, X[:, 0]).transform(X).shape
        (8, 1)
    """

    def transform(self, X: Any) -> np.ndarray:
        """The model's outputs for ``X``."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self.model_.predict(X, verbose=0)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags


for _cls in (SKLBase, SKLearnClassifier, SKLearnRegressor, SKLearnTransformer):
    _cls.__doc__ = _cls.__doc__.replace("{{sklearn_args}}", _SKLEARN_ARGS)
