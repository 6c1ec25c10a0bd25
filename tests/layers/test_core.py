import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import run_layer_test


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"units": 3}, (2, 4)),
        ({"units": 5, "activation": "relu", "use_bias": False}, (2, 4)),
        ({"units": 2, "activation": "tanh"}, (2, 3, 4)),
    ],
)
def test_dense(kwargs, shape):
    run_layer_test(layers.Dense, kwargs, shape)


def test_dense_bad_units_named():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)


def test_dense_wrong_last_axis_names_layer_and_shapes():
    layer = layers.Dense(2, name="layer1")
    layer(np.ones((3, 4), "float32"))
    with pytest.raises(ValueError, match=r'Layer "layer1" \(Dense\) expects last axis 4, but received shape \(3, 5\)'):
        layer(np.ones((3, 5), "float32"))


def test_dense_weights_lazy_and_paths():
    layer = layers.Dense(4)
    assert layer.weights == []
    layer.build((None, 3))
    assert [(w.path, w.shape) for w in layer.weights] == [("dense/kernel", (3, 4)), ("dense/bias", (4,))]
    assert isinstance(layer.kernel, torch.nn.Parameter)
    assert [n for n, _ in layer.named_parameters()] == ["kernel", "bias"]


def test_unnamed_weights_take_process_wide_names_as_in_keras():
    import keras

    def build_two(base):
        class TwoWeights(base.layers.Layer):
            def build(self, input_shape):
                self.a = self.add_weight(shape=(1,))
                self.b = self.add_weight(shape=(1,))

        first, second = TwoWeights(name="first"), TwoWeights(name="second")
        first.build((1,))
        second.build((1,))
        return [w.path for w in first.weights + second.weights]

    keras.backend.clear_session(free_memory=False)
    expected = build_two(keras)
    assert expected == ["first/variable", "first/variable_1", "second/variable_2", "second/variable_3"]
    assert build_two(lamina) == expected


def test_identity_and_activation():
    run_layer_test(layers.Identity, {}, (2, 3))
    run_layer_test(layers.Activation, {"activation": "softmax"}, (2, 3))


def test_unknown_activation_lists_valid():
    with pytest.raises(ValueError, match="Valid names: .*relu"):
        layers.Dense(2, activation="relux")


def test_variable_api():
    layer = layers.Dense(2)
    layer.build((None, 3))
    v = layer.weights[0]
    v.assign(np.ones((3, 2)))
    assert v.numpy().sum() == 6
    v.assign_add(np.ones((3, 2)))
    assert np.asarray(v).sum() == 12
    assert v.dtype == torch.float32 and v.shape == (3, 2) and v.trainable and v.name == "kernel"
    with pytest.raises(ValueError, match="dense/kernel"):
        v.assign(np.ones((2, 2)))
    # one object: the registered parameter is the Variable itself
    assert layer.kernel is v and dict(layer.named_parameters())["kernel"] is v
    assert float(layer.kernel.sum()) == 12


def test_trainable_freezes_parameters():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2), layers.Dense(1)])
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2
    assert len(model.non_trainable_weights) == 2
    assert not model.layers[0].kernel.requires_grad
    model.trainable = False
    assert model.trainable_weights == [] and all(not p.requires_grad for p in model.parameters())


def test_get_set_weights_round_trip_and_errors():
    a = layers.Dense(2)
    a.build((None, 3))
    b = layers.Dense(2, name="other")
    b.build((None, 3))
    b.set_weights(a.get_weights())
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    with pytest.raises(ValueError, match="other"):
        b.set_weights([np.ones((4, 2)), np.ones(2)])
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        b.set_weights([np.ones((3, 2))])


def test_count_params_unbuilt_raises():
    with pytest.raises(ValueError, match="not built"):
        layers.Dense(2).count_params()


def test_seeded_init_repeats():
    lamina.utils.set_random_seed(3)
    a = layers.Dense(3)
    a.build((None, 4))
    lamina.utils.set_random_seed(3)
    b = layers.Dense(3)
    b.build((None, 4))
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])


def test_glorot_uniform_bounds_and_zero_bias():
    layer = layers.Dense(50)
    layer.build((None, 30))
    limit = np.sqrt(6 / (30 + 50))
    k = layer.get_weights()[0]
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.8 * limit
    assert not layer.get_weights()[1].any()


def test_training_argument_semantics():
    seen = []

    class Probe(lamina.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    model = lamina.Sequential([Probe()])
    x = np.ones((1, 2), "float32")
    model.build((None, 2))
    seen.clear()
    model(x)
    model(x, training=True)
    model.train()
    model(x)
    assert seen == [False, True, True]


def test_add_loss_and_losses_reset_each_call():
    class Penalized(lamina.layers.Layer):
        def call(self, x):
            self.add_loss(x.sum())
            return x

    layer = Penalized()
    layer(torch.ones(2, 2))
    layer(torch.ones(2, 2))
    assert len(layer.losses) == 1 and float(layer.losses[0]) == 4.0


def test_regularizer_losses():
    layer = layers.Dense(2, kernel_regularizer=lamina.regularizers.L2(0.1))
    layer(torch.ones(1, 3))
    assert len(layer.losses) == 1
    expected = 0.1 * float((layer.kernel**2).sum())
    assert abs(float(layer.losses[0]) - expected) < 1e-6


def test_unknown_kwarg_rejected():
    with pytest.raises(TypeError, match="unitz"):
        layers.Dense(2, unitz=3)


def test_is_a_torch_module_and_state_dict_round_trip():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, name="a"), layers.Dense(1, name="b")])
    assert isinstance(model, torch.nn.Module)
    sd = model.state_dict()
    assert list(sd) == ["a.kernel", "a.bias", "b.kernel", "b.bias"]
    other = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, name="a"), layers.Dense(1, name="b")])
    other.load_state_dict(sd)
    x = torch.randn(4, 3)
    torch.testing.assert_close(model(x), other(x))


def test_input_ragged_true_is_refused_clearly_like_keras():
    import keras

    with pytest.raises(ValueError, match="`ragged=True` is not supported with the torch backend"):
        keras.Input((3,), ragged=True)
    with pytest.raises(ValueError, match="not supported with the torch backend.*pad_sequences.*Received: ragged=True"):
        lamina.Input((None,), ragged=True)
    with pytest.raises(ValueError, match="Received: ragged=True"):
        layers.InputLayer(shape=(3,), ragged=True)
    for ragged in (False, None):  # accepted, as in Keras: a dense input
        x = lamina.Input((3,), ragged=ragged)
        assert tuple(x.shape) == tuple(keras.Input((3,), ragged=ragged).shape) == (None, 3)
    config = layers.InputLayer(shape=(3,), ragged=False).get_config()
    assert config["ragged"] is False
