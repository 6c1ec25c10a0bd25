"""scikit-learn estimators around Lamina models (``keras.wrappers``); scikit-learn is an optional dependency.

Example:
    >>> from lamina.wrappers import SKLearnRegressor
    >>> SKLearnRegressor.__name__
    'SKLearnRegressor'
"""

from lamina.wrappers.sklearn_wrapper import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]
