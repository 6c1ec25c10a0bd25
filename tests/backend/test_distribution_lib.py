"""The ``lamina.distribution`` API in a single process (no launcher): Keras names, errors, no change to training."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import distribution as dist_api
from lamina.backend import distribution_lib


@pytest.fixture(autouse=True)
def _no_distribution():
    yield
    dist_api.set_distribution(None)


def test_public_names_match_keras():
    import keras

    for name in (
        "DataParallel",
        "DeviceMesh",
        "ModelParallel",
        "distribution",
        "get_device_count",
        "initialize",
        "list_devices",
        "set_distribution",
    ):
        assert hasattr(keras.distribution, name)
        assert hasattr(lamina.distribution, name)


def test_list_devices():
    assert dist_api.list_devices("cpu") == ["cpu:0"]
    assert dist_api.get_device_count("cpu") == 1
    with pytest.raises(ValueError, match="device_type"):
        dist_api.list_devices("tpu")


def test_device_mesh_validates_like_keras():
    mesh = dist_api.DeviceMesh((1,), ["batch"], devices=["cpu:0"])
    assert mesh.shape == (1,) and mesh.axis_names == ["batch"] and mesh.devices.tolist() == ["cpu:0"]
    with pytest.raises(ValueError, match="cannot be empty"):
        dist_api.DeviceMesh((), [])
    with pytest.raises(ValueError, match="same size"):
        dist_api.DeviceMesh((1,), ["a", "b"], devices=["cpu:0"])
    with pytest.raises(ValueError, match="does not match the number of devices"):
        dist_api.DeviceMesh((2,), ["batch"], devices=["cpu:0"])


def test_data_parallel_without_a_launcher_is_one_process():
    dp = dist_api.DataParallel()
    assert (dp.num_processes, dp.process_id, dp.is_chief, dp.num_model_replicas) == (1, 0, True, 1)
    assert dp.batch_dim_name == "batch" and dp.auto_shard_dataset
    mesh_dp = dist_api.DataParallel(device_mesh=dist_api.DeviceMesh((1,), ["data"], devices=["cpu:0"]))
    assert mesh_dp.batch_dim_name == "data" and str(mesh_dp.device) == "cpu"
    with pytest.raises(ValueError, match="DeviceMesh"):
        dist_api.DataParallel(device_mesh="not a mesh")
    with pytest.raises(ValueError, match="must not be empty"):
        dist_api.DataParallel(devices=[])


def test_set_distribution_getter_and_scope():
    assert dist_api.distribution() is None
    dp = dist_api.DataParallel(devices=["cpu:0"])
    dist_api.set_distribution(dp)
    assert dist_api.distribution() is dp
    assert distribution_lib.active() is None  # one process: the training loop is untouched
    other = dist_api.DataParallel(devices=["cpu:0"])
    with other.scope():
        assert dist_api.distribution() is other
    assert dist_api.distribution() is dp
    with pytest.raises(ValueError, match="Distribution"):
        dist_api.set_distribution("data_parallel")


def test_model_parallel_explains_it_is_not_available():
    with pytest.raises(NotImplementedError, match="DataParallel"):
        dist_api.ModelParallel(layout_map=None)


def test_initialize_needs_a_job(monkeypatch):
    for name in (
        "WORLD_SIZE",
        "RANK",
        "MASTER_ADDR",
        "MASTER_PORT",
        "KERAS_DISTRIBUTION_NUM_PROCESSES",
        "KERAS_DISTRIBUTION_PROCESS_ID",
        "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="number of processes"):
        dist_api.initialize()
    with pytest.raises(ValueError, match="process_id"):
        dist_api.initialize(num_processes=2, process_id=2)
    with pytest.raises(ValueError, match="coordinator address"):
        dist_api.initialize(num_processes=2, process_id=0)


def test_single_process_training_is_unchanged_by_data_parallel():
    def train():
        lamina.utils.set_random_seed(0)
        model = lamina.Sequential(
            [lamina.Input((3,)), lamina.layers.Dense(4, activation="relu"), lamina.layers.Dense(2)]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        x = np.random.default_rng(0).normal(size=(21, 3)).astype("float32")
        y = np.arange(21) % 2
        h = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        return h.history, model.get_weights(), model.predict(x, verbose=0)

    plain = train()
    dist_api.set_distribution(dist_api.DataParallel())
    lamina.backend.clear_session(free_memory=False)
    with_dp = train()
    assert plain[0] == with_dp[0]
    for a, b in zip(plain[1], with_dp[1], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(plain[2], with_dp[2])


def test_other_ranks_keep_only_callbacks_that_do_not_write():
    dp = dist_api.DataParallel(devices=["cpu:0"])
    dp._process_id = 1  # as rank 1 of a job
    cbs = [
        lamina.callbacks.ModelCheckpoint("m.keras"),
        lamina.callbacks.CSVLogger("log.csv"),
        lamina.callbacks.EarlyStopping(),
        lamina.callbacks.BackupAndRestore("backup"),
        lamina.callbacks.ProgbarLogger(),
    ]
    kept = dp._filter_callbacks(cbs)
    assert kept[0] is cbs[2] and len(kept) == 2
    restore_only = kept[1]
    assert restore_only.wrapped is cbs[3]
    assert restore_only._implements("on_train_begin") and not restore_only._implements("on_epoch_end")
    dp._process_id = 0
    assert dp._filter_callbacks(cbs) is cbs


def test_copies_of_a_model_drop_its_ddp_wrapper():
    import copy
    import pickle

    from lamina.distribution.data_parallel import _DDPHolder

    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    holder = _DDPHolder()
    holder.key = "k"
    model.__dict__["_lamina_ddp"] = holder
    assert not hasattr(copy.deepcopy(model).__dict__["_lamina_ddp"], "key")
    assert not hasattr(pickle.loads(pickle.dumps(holder)), "key")
