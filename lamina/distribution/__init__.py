"""Distributed training (Keras's ``keras.distribution`` API) on ``torch.distributed``.

Example:
    >>> import lamina as keras
    >>> keras.distribution.set_distribution(keras.distribution.DataParallel(devices=["cpu:0"]))
    >>> keras.distribution.distribution().num_processes     # 1 without torchrun
    1
    >>> keras.distribution.set_distribution(None)

Launch the same script with ``torchrun --nproc_per_node=N train.py`` to train on N processes.
"""

from lamina.backend.distribution_lib import (
    DeviceMesh,
    Distribution,
    ModelParallel,
    barrier,
    distribution,
    get_device_count,
    initialize,
    list_devices,
    set_distribution,
)
from lamina.distribution.data_parallel import DataParallel
from lamina.distribution.launch import spawn

__all__ = [
    "DataParallel",
    "DeviceMesh",
    "Distribution",
    "ModelParallel",
    "barrier",
    "distribution",
    "get_device_count",
    "initialize",
    "list_devices",
    "set_distribution",
    "spawn",
]
