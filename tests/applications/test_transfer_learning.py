"""The Sequential guide's transfer-learning section and the fine-tuning recipe, replayed in Keras and in Lamina.

Only the import changes: the base model comes from the applications with a local weights file (written
by Keras, as a stand-in for ``weights="imagenet"``), gets frozen, gains a new head, trains, is
unfrozen and fine-tuned with a low learning rate. Summaries (trainable counts included), losses and
weights are compared with Keras's step by step.
"""

from __future__ import annotations

import numpy as np

import lamina
from tests.applications import parity


def _summary(model) -> str:
    out = []
    model.summary(print_fn=out.append, show_trainable=True)
    return "\n".join(out)


def _data(n=8, size=32, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, (n, size, size, 3)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 127.5).astype("float32")[:, None]
    return x, y


def _copy_head(src, dst) -> None:
    """The new head starts from the same numbers in both libraries (their random streams differ)."""
    dst.layers[-1].set_weights([np.asarray(w) for w in src.layers[-1].get_weights()])


def _compare_weights(kmodel, lmodel, tol=1e-4) -> None:
    kw, lw = kmodel.get_weights(), lmodel.get_weights()
    assert len(kw) == len(lw)
    for a, b in zip(kw, lw, strict=True):
        parity.assert_close(np.asarray(a), np.asarray(b), tol)


def _transfer_model(side, weights):
    lib = side.lib
    base_model = lib.applications.MobileNetV2(weights=weights, input_shape=(32, 32, 3), include_top=False, alpha=0.35)
    base_model.trainable = False
    inputs = lib.Input(shape=(32, 32, 3))
    h = lib.applications.mobilenet_v2.preprocess_input(inputs)
    h = base_model(h, training=False)  # BN stays in inference mode, even once unfrozen
    h = lib.layers.GlobalAveragePooling2D()(h)
    outputs = lib.layers.Dense(1)(h)
    return base_model, lib.Model(inputs, outputs)


def _train(side, base_model, model, x, y) -> dict:
    lib = side.lib
    record = {"frozen_summary": _summary(model)}
    model.compile(
        optimizer=lib.optimizers.Adam(),
        loss=lib.losses.BinaryCrossentropy(from_logits=True),
        metrics=[lib.metrics.BinaryAccuracy()],
    )
    record["frozen"] = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0).history
    base_model.trainable = True
    record["unfrozen_summary"] = _summary(model)
    model.compile(
        optimizer=lib.optimizers.Adam(1e-5),
        loss=lib.losses.BinaryCrossentropy(from_logits=True),
        metrics=[lib.metrics.BinaryAccuracy()],
    )
    record["fine_tuned"] = model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0).history
    return record


def _assert_same_history(expected: dict, got: dict, rtol: float = 1e-4) -> None:
    assert sorted(expected) == sorted(got)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=rtol, atol=1e-5)


def test_feature_extraction_then_fine_tuning_equals_keras(tmp_path):
    import keras

    path = str(tmp_path / "base.weights.h5")
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)
    reference = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), include_top=False, alpha=0.35)
    parity.randomize_state(reference)
    reference.save_weights(path)
    x, y = _data()

    keras.backend.clear_session(free_memory=False)
    kbase, kmodel = _transfer_model(parity.KERAS, path)
    lamina.backend.clear_session(free_memory=False)
    lbase, lmodel = _transfer_model(parity.LAMINA, path)
    _copy_head(kmodel, lmodel)
    expected = _train(parity.KERAS, kbase, kmodel, x, y)
    got = _train(parity.LAMINA, lbase, lmodel, x, y)

    assert got["frozen_summary"] == expected["frozen_summary"]
    assert "Trainable params: 1,281 (5.00 KB)" in got["frozen_summary"]
    assert got["unfrozen_summary"] == expected["unfrozen_summary"]
    _assert_same_history(expected["frozen"], got["frozen"])
    # Fine-tuning moves every base weight with Adam at 1e-5, whose step is ~lr even for gradients near
    # zero: float32 summation-order differences in those gradients then show at the 1e-4 level.
    _assert_same_history(expected["fine_tuned"], got["fine_tuned"], rtol=1e-3)
    _compare_weights(kmodel, lmodel, tol=1e-3)


def test_sequential_guide_snippet_equals_keras(tmp_path):
    """``Sequential([base_model, layers.Dense(...)])`` on a frozen application, as the guide writes it."""
    import keras

    path = str(tmp_path / "base.h5")
    build = lambda side, w: side.lib.applications.MobileNetV3Small(  # noqa: E731
        weights=w, input_shape=(32, 32, 3), include_top=False, pooling="avg"
    )
    parity.keras_reference(build, path, "h5")
    x, y = _data(seed=5)
    y = (y[:, 0] * 3).astype("int64") % 4
    models = []
    for side in (parity.KERAS, parity.LAMINA):
        keras.backend.clear_session(free_memory=False)
        lamina.backend.clear_session(free_memory=False)
        base_model = build(side, path)
        base_model.trainable = False
        model = side.lib.Sequential([base_model, side.lib.layers.Dense(4)])
        model.build((None, 32, 32, 3))
        models.append(model)
    _copy_head(models[0], models[1])
    runs = []
    for side, model in zip((parity.KERAS, parity.LAMINA), models, strict=True):
        model.compile(
            optimizer="adam",
            loss=side.lib.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        runs.append((_summary(model), model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0).history))
    (ksummary, khistory), (lsummary, lhistory) = runs
    assert lsummary == ksummary
    assert "Non-trainable params: 939,120 (3.58 MB)" in lsummary
    _assert_same_history(khistory, lhistory)
    _compare_weights(*models)
