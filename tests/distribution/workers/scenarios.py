"""Training scenarios run once in a single process and once under ``torchrun --nproc_per_node=2``.

    python tests/distribution/workers/scenarios.py OUT_DIR            # reference, one process
    torchrun --standalone --nproc_per_node=2 tests/distribution/workers/scenarios.py OUT_DIR

Each process writes ``OUT_DIR/world{W}_rank{R}.json``: for every scenario its History, final weights
and whatever else the tests compare (tests/distribution/test_data_parallel.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import lamina as keras  # noqa: E402

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = rng.integers(0, 3, n)
    return x, y


def make_model(seed=1, bn=False, reg=False, optimizer="sgd", cls=None):
    keras.utils.set_random_seed(seed)
    opt = keras.optimizers.SGD(learning_rate=0.1) if optimizer == "sgd" else keras.optimizers.Adam(learning_rate=0.01)
    if cls is not None:
        model = cls()
    else:
        layers = [
            keras.Input((6,)),
            keras.layers.Dense(16, activation="relu", kernel_regularizer="l2" if reg else None),
        ]
        if bn:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Dense(3))
        model = keras.Sequential(layers)
    model.compile(
        optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    return model


def weights(model):
    return [w.tolist() for w in model.get_weights()]


def rank():
    return keras.distribution.distribution().process_id


def world():
    return keras.distribution.distribution().num_processes


# ---------------------------------------------------------------------------- equivalence with one process
@scenario
def arrays_ragged(out):
    """37 samples, global batch 8: the last batch (5) splits 3/2; sample weights, L2, Adam, validation."""
    x, y = data(37)
    sw = np.random.default_rng(5).uniform(0.5, 1.5, 37).astype("float32")
    m = make_model(reg=True, optimizer="adam")
    h = m.fit(
        x, y, sample_weight=sw, batch_size=8, epochs=3, shuffle=False, verbose=0, validation_data=data(11, seed=3)
    )
    xe, ye = data(23, seed=4)
    ev = m.evaluate(xe, ye, batch_size=5, verbose=0, return_dict=True)  # last batch of 3: 2/1
    pred = m.predict(xe, batch_size=6, verbose=0)  # last batch of 5
    pred1 = m.predict(xe[:1], batch_size=1, verbose=0, steps=None)
    pred_odd = m.predict(data(7, seed=9)[0], batch_size=3, verbose=0)  # last batch of 1: rank 1 stands in
    return {
        "history": h.history,
        "weights": weights(m),
        "evaluate": ev,
        "predict": pred.tolist(),
        "predict1": pred1.tolist(),
        "predict_odd": pred_odd.tolist(),
    }


@scenario
def arrays_tiny_last(out):
    """33 samples, batch 8: the last global batch has 1 sample, so rank 1 runs a weight-0 stand-in step."""
    x, y = data(33)
    m = make_model()
    h = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    ev = m.evaluate(x[:3], y[:3], batch_size=2, verbose=0, return_dict=True)  # last batch 1 sample
    return {"history": h.history, "weights": weights(m), "evaluate": ev}


@scenario
def arrays_shuffled(out):
    """shuffle=True: the permutation seed is rank 0's, which is what a single process draws too."""
    x, y = data(40)
    m = make_model()
    h = m.fit(x, y, batch_size=10, epochs=2, shuffle=True, verbose=0)
    return {"history": h.history, "weights": weights(m)}


@scenario
def loader(out):
    """A DataLoader (global batch 8): each process loads only its indices of every batch."""
    x, y = data(37)
    ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    m = make_model()
    h = m.fit(torch.utils.data.DataLoader(ds, batch_size=8, shuffle=False), epochs=2, verbose=0)
    loaded = []

    class Recording(torch.utils.data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            loaded.append(int(i))
            return torch.from_numpy(x[i]), torch.from_numpy(np.asarray(y[i]))

    m2 = make_model()
    m2.fit(Recording(), batch_size=4, epochs=1, shuffle=False, verbose=0)
    return {"history": h.history, "weights": weights(m), "loaded": sorted(loaded)}


@scenario
def loader_shuffled(out):
    x, y = data(40)
    ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    m = make_model()
    h = m.fit(torch.utils.data.DataLoader(ds, batch_size=8, shuffle=True), epochs=2, verbose=0)
    return {"history": h.history, "weights": weights(m)}


@scenario
def pydataset(out):
    x, y = data(39)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return x[i * 8 : (i + 1) * 8], y[i * 8 : (i + 1) * 8]  # the last batch has 7

    m = make_model()
    h = m.fit(Batches(), epochs=2, verbose=0)
    return {"history": h.history, "weights": weights(m)}


@scenario
def generator(out):
    x, y = data(32)

    def batches():
        while True:
            for i in range(4):
                yield x[i * 8 : (i + 1) * 8], y[i * 8 : (i + 1) * 8]

    m = make_model()
    h = m.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0)
    return {"history": h.history, "weights": weights(m)}


@scenario
def steps_per_epoch(out):
    """steps_per_epoch shorter than the data, shuffled arrays and a shuffled DataLoader (epochs continue the pass)."""
    x, y = data(40)
    m = make_model()
    h = m.fit(x, y, batch_size=8, steps_per_epoch=3, epochs=3, shuffle=True, verbose=0)
    ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    m2 = make_model()
    h2 = m2.fit(torch.utils.data.DataLoader(ds, batch_size=6, shuffle=True), steps_per_epoch=4, epochs=3, verbose=0)
    return {
        "history": {**h.history, **{f"loader_{k}": v for k, v in h2.history.items()}},
        "weights": weights(m) + weights(m2),
    }


class CustomStepModel(keras.Model):
    """A Keras-style user-written ``train_step`` (its own backward and ``optimizer.apply``)."""

    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(16, activation="relu")
        self.out = keras.layers.Dense(3)

    def call(self, x):
        return self.out(self.hidden(x))

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        for v in self.trainable_weights:
            v.value.grad = None
        loss.backward()
        self.optimizer.apply([v.value.grad for v in self.trainable_weights], self.trainable_weights)
        self.compute_metrics(x, y, y_pred)
        logs = dict(self.get_metrics_result())  # plain values, as Keras-style steps return them
        logs["loss"] = loss.detach()
        return logs


@scenario
def custom_train_step(out):
    x, y = data(37)
    m = make_model(cls=CustomStepModel)
    h = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return {"history": h.history, "weights": weights(m)}


@scenario
def backup_resume(out):
    """Interrupted after epoch 2 of 4, then resumed from BackupAndRestore: every rank resumes alike."""
    x, y = data(36)
    backup = os.path.join(out, f"backup_world{world()}")

    class Interrupted(Exception):
        """The simulated crash; any other exception is a real failure and propagates."""

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise Interrupted("interrupted after epoch 2")

    m = make_model()
    try:
        m.fit(
            x,
            y,
            batch_size=8,
            epochs=4,
            shuffle=True,
            verbose=0,
            callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt()],
        )
    except Interrupted:
        pass
    else:
        raise AssertionError("the interrupting callback never ran")
    keras.backend.clear_session()  # layer names as in a fresh process
    m = make_model(seed=7)  # a fresh process would start from other weights; the backup restores them
    h = m.fit(
        x, y, batch_size=8, epochs=4, shuffle=True, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup)]
    )
    return {"history": h.history, "weights": weights(m)}


@scenario
def rank_local_init_evaluate(out):
    """Each process initializes differently (seed = rank): evaluate/predict use rank 0's weights."""
    m = make_model(seed=rank())
    x, y = data(17, seed=2)
    ev = m.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    pred = m.predict(x, batch_size=4, verbose=0)
    return {"evaluate": ev, "predict": pred.tolist()}


@scenario
def not_auto_sharded(out):
    """auto_shard_dataset=False: each process feeds its own half (batch 4 each = global batch 8)."""
    x, y = data(32)
    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(keras.distribution.DataParallel(auto_shard_dataset=False))
    try:
        m = make_model()
        if world() == 2:
            order = np.arange(32).reshape(4, 8)[:, rank() * 4 : (rank() + 1) * 4].reshape(-1)
            h = m.fit(x[order], y[order], batch_size=4, epochs=2, shuffle=False, verbose=0)
        else:
            h = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    finally:
        keras.distribution.set_distribution(previous)
    return {"history": h.history, "weights": weights(m)}


# ---------------------------------------------------------------------------- replicas, files, errors
@scenario
def batchnorm(out):
    """BatchNormalization: replicas (moving statistics included) stay identical."""
    x, y = data(40)
    m = make_model(bn=True)
    h = m.fit(x, y, batch_size=10, epochs=2, shuffle=True, verbose=0)
    return {"history": h.history, "weights": weights(m)}


@scenario
def files_and_output(out):
    """Only rank 0 prints progress, runs file-writing callbacks and saves."""
    x, y = data(24)
    saves = []

    class CountingCheckpoint(keras.callbacks.ModelCheckpoint):
        def _save(self, *args, **kwargs):
            saves.append(1)
            return super()._save(*args, **kwargs)

    r = rank()
    m = make_model()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        m.fit(
            x,
            y,
            batch_size=8,
            epochs=2,
            verbose=2,
            callbacks=[
                CountingCheckpoint(os.path.join(out, f"ckpt_world{world()}.weights.h5"), save_weights_only=True),
                keras.callbacks.CSVLogger(os.path.join(out, f"log_world{world()}_rank{r}.csv")),
            ],
        )
        m.evaluate(x, y, verbose=2)
        m.predict(x, verbose=2)
    m.save(os.path.join(out, f"model_world{world()}_rank{r}.keras"))
    m.save_weights(os.path.join(out, f"weights_world{world()}_rank{r}.weights.h5"))
    return {"printed": buf.getvalue(), "checkpoint_saves": len(saves)}


@scenario
def mismatched_lengths(out):
    """Processes given different amounts of data fail with a clear error (not a hang)."""
    n = 37 if rank() == 0 else 29
    x, y = data(n)
    m = make_model()
    try:
        m.fit(x, y, batch_size=8, epochs=1, verbose=0)
    except ValueError as e:
        return {"error": str(e)}
    return {"error": None}


def main(out, names=None):
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    results = {}
    for name in names or SCENARIOS:
        keras.backend.clear_session()
        try:
            results[name] = SCENARIOS[name](out)
        except Exception:  # noqa: BLE001 - reported to the test, which shows it
            results[name] = {"exception": traceback.format_exc()}
            raise
    path = os.path.join(out, f"world{world()}_rank{rank()}.json")
    with open(path, "w") as f:
        json.dump(results, f)
    if torch.distributed.is_initialized():
        torch.distributed.barrier()  # every rank has written its results
        torch.distributed.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no interpreter teardown: gloo's threads can abort a finished worker at exit


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or None)
