"""Recurrent layers: ``RNN`` and its cells, ``SimpleRNN``, ``LSTM``, ``GRU``, ``ConvLSTM1D/2D/3D``, ``Bidirectional``,
``TimeDistributed``."""

from lamina.layers.core.wrapper import Wrapper
from lamina.layers.recurrent.bidirectional import Bidirectional
from lamina.layers.recurrent.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from lamina.layers.recurrent.gru import GRU, GRUCell
from lamina.layers.recurrent.lstm import LSTM, LSTMCell
from lamina.layers.recurrent.rnn import RNN
from lamina.layers.recurrent.simple_rnn import SimpleRNN, SimpleRNNCell
from lamina.layers.recurrent.stacked_rnn_cells import StackedRNNCells
from lamina.layers.recurrent.time_distributed import TimeDistributed

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Bidirectional",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "GRUCell",
    "LSTMCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
    "TimeDistributed",
    "Wrapper",
]
