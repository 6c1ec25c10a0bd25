"""Keras callbacks on Lamina's fit: behaviour a user relies on, compared with Keras where it is defined."""

import csv
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lamina
from lamina import callbacks, layers


def _model(lr=0.05):
    m = lamina.Sequential([lamina.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(3)])
    m.compile(
        optimizer=lamina.optimizers.SGD(lr),
        loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return m


def _data(n=64):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 4)).astype("float32"), rng.integers(0, 3, n)


def test_every_hook_is_called_in_order():
    events = []

    class Recorder(callbacks.Callback):
        def __getattribute__(self, name):
            if name.startswith("on_") and name not in ("on_batch_begin", "on_batch_end"):

                def hook(*args, **kwargs):
                    events.append(name)

                return hook
            return object.__getattribute__(self, name)

        def _implements(self, hook):
            return True

    x, y = _data(16)
    model = _model()
    model.fit(x, y, batch_size=8, epochs=1, validation_data=(x, y), verbose=0, callbacks=[Recorder()])
    assert events == [
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_test_begin",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_test_end",
        "on_epoch_end",
        "on_train_end",
    ]


def test_early_stopping_restores_best_weights():
    x, y = _data()
    model = _model(lr=0.5)
    best = {}

    class Track(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            best[epoch] = (logs["loss"], [w.copy() for w in self.model.get_weights()])

    es = callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True, mode="min", min_delta=10.0)
    h = model.fit(x, y, epochs=10, batch_size=16, verbose=0, callbacks=[Track(), es])
    assert len(h.history["loss"]) == 2 and es.stopped_epoch == 1
    for a, b in zip(model.get_weights(), best[0][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_start_from_epoch_and_auto_mode():
    x, y = _data()
    model = _model()
    es = callbacks.EarlyStopping(monitor="accuracy", patience=0, start_from_epoch=3, min_delta=1.0)
    h = model.fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[es])
    assert len(h.history["loss"]) == 5  # watching starts at epoch 3, stops at the first non-improvement


def test_reduce_lr_on_plateau_and_scheduler():
    x, y = _data()
    model = _model(lr=0.1)
    r = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=100.0, min_lr=0.02)
    h = model.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[r])
    # as in Keras, the logged rate is the one the epoch ran with (the reduction applies to the next epoch)
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)
    model = _model(lr=0.1)
    s = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    h = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[s])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_csv_logger(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    _model().fit(
        x, y, epochs=2, batch_size=16, verbose=0, validation_data=(x, y), callbacks=[callbacks.CSVLogger(str(path))]
    )
    rows = list(csv.DictReader(open(path)))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert set(rows[0]) == {"epoch", "accuracy", "loss", "val_accuracy", "val_loss"}


def test_terminate_on_nan_names_the_batch(capsys):
    x, y = _data()
    x[20] = np.nan
    model = _model()
    h = model.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False, callbacks=[callbacks.TerminateOnNaN()])
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    assert len(h.history["loss"]) == 1
    with pytest.raises(RuntimeError, match="batch 2"):
        _model().fit(
            x,
            y,
            epochs=1,
            batch_size=8,
            verbose=0,
            shuffle=False,
            callbacks=[callbacks.TerminateOnNaN(raise_error=True)],
        )


def test_lambda_callback():
    x, y = _data(16)
    seen = []
    cb = callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: seen.append((e, round(float(logs["loss"]), 6))),
        on_train_batch_end=lambda b, logs: seen.append(b),
    )
    _model().fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[cb])
    assert seen[:2] == [0, 1] and seen[2][0] == 0
    with pytest.raises(ValueError, match="on_epoch_ned"):
        callbacks.LambdaCallback(on_epoch_ned=print)


def test_model_checkpoint_best_only(tmp_path):
    x, y = _data()
    model = _model()
    path = str(tmp_path / "ckpt-{epoch:02d}-{loss:.3f}.weights.h5")
    model.fit(
        x,
        y,
        epochs=3,
        batch_size=16,
        verbose=0,
        callbacks=[callbacks.ModelCheckpoint(path, monitor="loss", save_weights_only=True)],
    )
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 3 and files[0].startswith("ckpt-01-")
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        callbacks.ModelCheckpoint(str(tmp_path / "x.keras"), save_weights_only=True)
    best = str(tmp_path / "best.keras")
    model.fit(
        x,
        y,
        epochs=2,
        batch_size=16,
        verbose=0,
        callbacks=[callbacks.ModelCheckpoint(best, monitor="loss", save_best_only=True)],
    )
    restored = lamina.models.load_model(best)
    assert restored.count_params() == model.count_params()


def test_tensorboard_writes_or_says_which_extra(tmp_path):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"lamina\[tensorboard\]"):
            callbacks.TensorBoard(str(tmp_path))
        return
    x, y = _data()
    _model().fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.TensorBoard(str(tmp_path), histogram_freq=1)])
    assert any(name.startswith("events") for name in os.listdir(tmp_path / "train"))


_RESUME_SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import lamina
    from lamina import layers, callbacks

    backup, out, crash_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lamina.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 4)).astype("float32")
    y = rng.integers(0, 3, 96)
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(16, activation="relu"), layers.Dropout(0.3),
                               layers.Dense(3)])
    model.compile(optimizer="adam", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))

    class Crash(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == crash_at:
                os._exit(17)  # a hard crash: no cleanup, no on_train_end

    cbs = [callbacks.BackupAndRestore(backup), Crash()]
    model.fit(x, y, batch_size=16, epochs=6, shuffle=True, verbose=0, callbacks=cbs)
    np.savez(out, *model.get_weights())
""")


def test_backup_and_restore_resumes_exactly_after_a_crash(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(_RESUME_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.getcwd())

    def run(backup, out, crash_at):
        return subprocess.run(
            [sys.executable, str(script), str(backup), str(out), str(crash_at)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    straight = run(tmp_path / "b1", tmp_path / "straight.npz", -1)
    assert straight.returncode == 0, straight.stderr
    crashed = run(tmp_path / "b2", tmp_path / "resumed.npz", 2)
    assert crashed.returncode == 17
    assert (tmp_path / "b2").exists() and not (tmp_path / "resumed.npz").exists()
    resumed = run(tmp_path / "b2", tmp_path / "resumed.npz", -1)
    assert resumed.returncode == 0, resumed.stderr
    a, b = np.load(tmp_path / "straight.npz"), np.load(tmp_path / "resumed.npz")
    for k in a.files:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-6)
    assert not (tmp_path / "b2").exists()  # deleted after the successful run
