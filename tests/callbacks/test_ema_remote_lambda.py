"""SwapEMAWeights (against Keras), RemoteMonitor (against an http.server on 127.0.0.1 that the test runs) and
LambdaCallback's positional hooks."""

import http.server
import json
import threading
import urllib.parse

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import callbacks


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")


def _ema_model(k, weights=None, use_ema=True):
    model = k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="tanh"), k.layers.Dense(1)])
    if weights is not None:
        model.set_weights(weights)
    model.compile(optimizer=k.optimizers.SGD(0.1, use_ema=use_ema, ema_momentum=0.5), loss="mse")
    return model


def _ema_values(model):
    averages = model.optimizer._model_variables_moving_average
    return [np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in averages]


def test_fit_ends_on_the_moving_average_like_keras():
    x, y = _data()
    ours = _ema_model(lamina)
    theirs = _ema_model(keras, ours.get_weights())
    for m in (ours, theirs):
        m.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    ema = _ema_values(ours)
    assert len(ema) == 4
    for a, b, c in zip(ours.get_weights(), theirs.get_weights(), ema, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(a, c)  # Keras's fit ends with finalize_variable_values
    for a, b in zip(ema, _ema_values(theirs), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _trained_then_moved(k, weights=None):
    """A model trained with an EMA, whose weights are then set away from the average (as after more steps)."""
    x, y = _data()
    model = _ema_model(k, weights)
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    model.set_weights([w + 0.25 for w in model.get_weights()])
    return model


def test_swap_ema_weights_evaluates_with_the_average_like_keras():
    x, y = _data()
    start = _ema_model(lamina).get_weights()
    ours, theirs = _trained_then_moved(lamina, start), _trained_then_moved(keras, start)
    for a, b in zip(_ema_values(ours), _ema_values(theirs), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    moved, ema = ours.get_weights(), _ema_values(ours)
    loss = ours.evaluate(x, y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    plain = ours.evaluate(x, y, verbose=0)
    reference = _ema_model(lamina, ema, use_ema=False).evaluate(x, y, verbose=0)
    np.testing.assert_allclose(loss, reference, rtol=1e-6)
    assert abs(loss - plain) > 1e-3  # the callback changed what was evaluated
    for a, b in zip(ours.get_weights(), moved, strict=True):  # the model's own weights are back
        np.testing.assert_array_equal(a, b)
    keras_loss = theirs.evaluate(x, y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    np.testing.assert_allclose(loss, keras_loss, rtol=1e-5)


def test_swap_ema_weights_predict_restores_the_model_weights():
    x, _ = _data()
    model = _trained_then_moved(lamina)
    moved, ema = model.get_weights(), _ema_values(model)
    pred = model.predict(x, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    np.testing.assert_allclose(pred, _ema_model(lamina, ema).predict(x, verbose=0), rtol=1e-6)
    for a, b in zip(model.get_weights(), moved, strict=True):
        np.testing.assert_array_equal(a, b)


def test_swap_ema_weights_on_epoch_leaves_the_average_in_the_model_like_keras():
    x, y = _data()
    ours = _ema_model(lamina)
    theirs = _ema_model(keras, ours.get_weights())
    seen = []
    ours.fit(
        x,
        y,
        epochs=2,
        batch_size=8,
        shuffle=False,
        verbose=0,
        validation_data=(x, y),
        callbacks=[
            callbacks.SwapEMAWeights(swap_on_epoch=True),
            callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch)),
        ],
    )
    theirs.fit(
        x,
        y,
        epochs=2,
        batch_size=8,
        shuffle=False,
        verbose=0,
        validation_data=(x, y),
        callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True)],
    )
    assert seen == [0, 1]
    ours_w, theirs_w = ours.get_weights(), theirs.get_weights()
    assert len(ours_w) == len(theirs_w) == 4
    for a, b in zip(ours_w, theirs_w, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours_w, _ema_values(ours), strict=True):  # the model ends on the average
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_swap_ema_weights_errors():
    x, y = _data()
    model = _ema_model(lamina, use_ema=False)
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="SwapEMAWeights must be used when `use_ema=True`"):
        model.evaluate(x, y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    with pytest.raises(TypeError, match="Received: swap_on_epoch='yes'"):
        callbacks.SwapEMAWeights(swap_on_epoch="yes")


# -- RemoteMonitor ----------------------------------------------------------------------------------------------


class _Collector:
    """An http.server on 127.0.0.1 (free port) that records every POST: path, headers and body."""

    def __init__(self):
        posts = self.posts = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 -- http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                posts.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _fit_with(cb, epochs=2):
    x, y = _data()
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=[cb])


def test_remote_monitor_posts_each_epoch_as_a_form_field():
    with _Collector() as server:
        history = _fit_with(callbacks.RemoteMonitor(root=server.root, path="/events/", field="payload"))
    assert len(server.posts) == 2
    for epoch, (path, headers, body) in enumerate(server.posts):
        assert path == "/events/"
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = urllib.parse.parse_qs(body.decode())
        assert list(form) == ["payload"]
        sent = json.loads(form["payload"][0])
        assert sent["epoch"] == epoch and set(sent) == {"epoch", "loss", "mae"}
        assert sent["loss"] == pytest.approx(history.history["loss"][epoch], rel=1e-6)


def test_remote_monitor_sends_json_with_extra_headers():
    with _Collector() as server:
        monitor = callbacks.RemoteMonitor(root=server.root, headers={"X-Run": "r1"}, send_as_json=True)
        _fit_with(monitor, epochs=1)
    assert len(server.posts) == 1
    path, headers, body = server.posts[0]
    assert path == "/publish/epoch/end/"  # Keras's default path
    assert headers["Content-Type"] == "application/json" and headers["X-Run"] == "r1"
    sent = json.loads(body)
    assert sent["epoch"] == 0 and isinstance(sent["loss"], float)


def test_remote_monitor_warns_when_the_server_is_gone():
    with _Collector() as server:
        root = server.root
    with pytest.warns(UserWarning, match=f"Could not reach RemoteMonitor root server at {root}"):
        history = _fit_with(callbacks.RemoteMonitor(root=root), epochs=1)
    assert len(history.history["loss"]) == 1  # training went on


def test_remote_monitor_argument_errors():
    with pytest.raises(ValueError, match="must be an http\\(s\\) URL. Received: root='ftp://x'"):
        callbacks.RemoteMonitor(root="ftp://x")
    with pytest.raises(TypeError, match="Received: headers=\\['a'\\]"):
        callbacks.RemoteMonitor(headers=["a"])
    with pytest.raises(TypeError, match="Received: field=3"):
        callbacks.RemoteMonitor(field=3)


# -- LambdaCallback ---------------------------------------------------------------------------------------------


def _lambda_events(k, make):
    x, y = _data()
    k.utils.set_random_seed(0)
    model = k.Sequential([k.Input((3,)), k.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    events = []
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[make(k, events)])
    return events


def test_lambda_callback_takes_its_hooks_positionally_like_keras():
    def positional(k, events):
        return k.callbacks.LambdaCallback(
            lambda epoch, logs: events.append(("begin", epoch)),
            lambda epoch, logs: events.append(("end", epoch, sorted(logs))),
            lambda logs: events.append("train_begin"),
            lambda logs: events.append("train_end"),
            None,
            lambda batch, logs: events.append(("batch", batch)),
        )

    ours = _lambda_events(lamina, positional)
    assert ours == _lambda_events(keras, positional)
    assert ours[:4] == ["train_begin", ("begin", 0), ("batch", 0), ("batch", 1)]
    assert ours[4] == ("end", 0, ["loss"]) and ours[-1] == "train_end"


def test_lambda_callback_on_epoch_end_alone_positional():
    seen = []
    cb = callbacks.LambdaCallback(None, lambda epoch, logs: seen.append(epoch))
    assert cb.on_epoch_end is not None
    _fit_with(cb, epochs=3)
    assert seen == [0, 1, 2]
    with pytest.raises(TypeError, match="positional"):
        callbacks.LambdaCallback(None, None, None, None, None, None, print)


def test_torch_is_untouched_by_the_callbacks():
    # the EMA swap works in place on the registered parameters: the model's parameters stay the same objects
    x, y = _data()
    model = _ema_model(lamina)
    params = [id(p) for p in model.parameters()]
    model.fit(x, y, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    assert [id(p) for p in model.parameters()] == params
    assert all(isinstance(p, torch.nn.Parameter) for p in model.parameters())
