"""Core layers: Dense, EinsumDense, Embedding, ReversibleEmbedding, Activation, Identity, Lambda, Masking, Input,
Wrapper, TorchModuleWrapper, and the framework-bound TFSMLayer / JaxLayer / FlaxLayer (which raise)."""

from lamina.layers.core.activation import Activation
from lamina.layers.core.dense import Dense
from lamina.layers.core.einsum_dense import EinsumDense
from lamina.layers.core.embedding import Embedding
from lamina.layers.core.framework_bound import FlaxLayer, JaxLayer, TFSMLayer
from lamina.layers.core.identity import Identity
from lamina.layers.core.input_layer import Input, InputLayer
from lamina.layers.core.lambda_layer import Lambda
from lamina.layers.core.masking import Masking
from lamina.layers.core.reversible_embedding import ReversibleEmbedding
from lamina.layers.core.torch_module_wrapper import TorchModuleWrapper
from lamina.layers.core.wrapper import Wrapper

__all__ = [
    "Activation",
    "Dense",
    "EinsumDense",
    "Embedding",
    "FlaxLayer",
    "Identity",
    "JaxLayer",
    "Input",
    "InputLayer",
    "Lambda",
    "Masking",
    "ReversibleEmbedding",
    "TFSMLayer",
    "TorchModuleWrapper",
    "Wrapper",
]
