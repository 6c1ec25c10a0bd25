"""Keras 3's ``.weights.h5`` layout: same paths as Keras writes, round trips, mismatch handling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import lamina
from lamina import layers
from tests.saving.kx import h5_group_names, h5_tree, keras, keras_predict, lamina_predict


def _lamina_seq():
    return lamina.Sequential([lamina.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2)])


def _keras_seq():
    k = keras()
    return k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="relu"), k.layers.Dense(2)])


def test_sequential_layout_is_keras_layout(tmp_path):
    ours, theirs = _lamina_seq(), _keras_seq()
    ours.save_weights(tmp_path / "l.weights.h5")
    theirs.save_weights(tmp_path / "k.weights.h5")
    assert (
        h5_tree(tmp_path / "l.weights.h5")
        == h5_tree(tmp_path / "k.weights.h5")
        == {
            "layers/dense/vars/0": (3, 4),
            "layers/dense/vars/1": (4,),
            "layers/dense_1/vars/0": (4, 2),
            "layers/dense_1/vars/1": (2,),
        }
    )
    names = h5_group_names(tmp_path / "l.weights.h5")
    assert names == {"vars": "sequential", "layers/dense/vars": "dense", "layers/dense_1/vars": "dense_1"}
    assert set(names) == set(h5_group_names(tmp_path / "k.weights.h5"))


def test_paths_use_class_names_not_layer_names(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(4, name="hidden"), layers.Dense(2, name="out")])
    model.save_weights(tmp_path / "m.weights.h5")
    assert set(h5_tree(tmp_path / "m.weights.h5")) == {
        "layers/dense/vars/0",
        "layers/dense/vars/1",
        "layers/dense_1/vars/0",
        "layers/dense_1/vars/1",
    }
    assert h5_group_names(tmp_path / "m.weights.h5")["layers/dense/vars"] == "hidden"


class _LSub(lamina.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(4)
        self.blocks = [layers.Dense(4), layers.Dense(4)]
        self.out = layers.Dense(2)

    def call(self, x):
        x = self.hidden(x)
        for block in self.blocks:
            x = block(x)
        return self.out(x)


def _keras_sub():
    k = keras()

    class KSub(k.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = k.layers.Dense(4)
            self.blocks = [k.layers.Dense(4), k.layers.Dense(4)]
            self.out = k.layers.Dense(2)

        def call(self, x):
            x = self.hidden(x)
            for block in self.blocks:
                x = block(x)
            return self.out(x)

    return KSub()


def test_subclassed_model_layout_and_both_directions(tmp_path):
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    ours, theirs = _LSub(), _keras_sub()
    ours(x)
    theirs(x)
    ours.save_weights(tmp_path / "l.weights.h5")
    theirs.save_weights(tmp_path / "k.weights.h5")
    tree = h5_tree(tmp_path / "l.weights.h5")
    assert tree == h5_tree(tmp_path / "k.weights.h5")
    # attributes sorted, "layers" (the model's layer list) reaches the ones not met before: Keras's walk
    assert "blocks/dense_1/vars/0" in tree and "hidden/vars/0" in tree and "layers/dense_3/vars/0" in tree
    ours.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(lamina_predict(ours, x), keras_predict(theirs, x), atol=1e-5)
    fresh = _keras_sub()
    fresh(x)
    ours2 = _LSub()
    ours2(x)
    ours2.save_weights(tmp_path / "l2.weights.h5")
    fresh.load_weights(tmp_path / "l2.weights.h5")
    np.testing.assert_allclose(keras_predict(fresh, x), lamina_predict(ours2, x), atol=1e-5)


class Nested(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pair = {"a": layers.Dense(2), "b": layers.Dense(3)}
        self.stack = [layers.Dense(2), layers.Dense(3)]
        self._private = layers.Dense(2)

    def build(self, input_shape):
        self.w = self.add_weight(shape=(2,), name="w")
        for layer in (self.pair["a"], self.pair["b"], self.stack[0], self.stack[1], self._private):
            layer.build(input_shape)

    def call(self, x):
        return self._private(x) * self.w


def _keras_nested():
    k = keras()

    class Nested(k.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.pair = {"a": k.layers.Dense(2), "b": k.layers.Dense(3)}
            self.stack = [k.layers.Dense(2), k.layers.Dense(3)]
            self._private = k.layers.Dense(2)

        def build(self, input_shape):
            self.w = self.add_weight(shape=(2,), name="w")
            for layer in (self.pair["a"], self.pair["b"], self.stack[0], self.stack[1], self._private):
                layer.build(input_shape)

        def call(self, x):
            return self._private(x) * self.w

    return Nested()


def test_sublayers_in_containers_and_private_attributes(tmp_path):
    k = keras()
    ours = lamina.Sequential([lamina.Input((3,)), Nested()])
    theirs = k.Sequential([k.Input((3,)), _keras_nested()])
    ours.save_weights(tmp_path / "l.weights.h5")
    theirs.save_weights(tmp_path / "k.weights.h5")
    tree = h5_tree(tmp_path / "l.weights.h5")
    assert tree == h5_tree(tmp_path / "k.weights.h5")
    assert {
        "layers/nested/vars/0",
        "layers/nested/pair/dense_1/vars/0",
        "layers/nested/stack/dense_1/vars/1",
        "layers/nested/_private/vars/0",
    } <= set(tree)
    x = np.ones((2, 3), "float32")
    ours.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(lamina_predict(ours, x), keras_predict(theirs, x), atol=1e-5)


def test_round_trip_restores_every_weight(tmp_path):
    model = _lamina_seq()
    model.save_weights(tmp_path / "m.weights.h5")
    other = _lamina_seq()
    x = np.random.default_rng(1).standard_normal((4, 3)).astype("float32")
    assert not np.allclose(lamina_predict(model, x), lamina_predict(other, x))
    other.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(lamina_predict(model, x), lamina_predict(other, x))
    for a, b in zip(model.weights, other.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_load_weights_from_a_keras_file(tmp_path):
    model = _lamina_seq()
    model.save(tmp_path / "m.keras")
    other = _lamina_seq()
    other.load_weights(tmp_path / "m.keras")
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(lamina_predict(model, x), lamina_predict(other, x))


def test_filename_and_built_checks(tmp_path):
    model = _lamina_seq()
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        model.save_weights(tmp_path / "m.h5")
    unbuilt = lamina.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not yet been built"):
        unbuilt.save_weights(tmp_path / "u.weights.h5")
    with pytest.raises(ValueError, match="not yet been built"):
        unbuilt.load_weights(tmp_path / "u.weights.h5")
    with pytest.raises(ValueError, match="File not found"):
        model.load_weights(tmp_path / "missing.weights.h5")


def test_skip_mismatch_loads_the_rest(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(4), layers.Dense(2)])
    model.save_weights(tmp_path / "m.weights.h5")
    other = lamina.Sequential([lamina.Input((3,)), layers.Dense(4), layers.Dense(5)])
    with pytest.warns(UserWarning, match="expects shape"):
        other.load_weights(tmp_path / "m.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(other.layers[0].get_weights()[0], model.layers[0].get_weights()[0])


def test_objects_to_skip(tmp_path):
    model = _lamina_seq()
    model.save_weights(tmp_path / "m.weights.h5")
    other = _lamina_seq()
    before = other.layers[1].kernel.detach().clone()
    other.load_weights(tmp_path / "m.weights.h5", objects_to_skip=[other.layers[1]])
    np.testing.assert_array_equal(other.layers[0].get_weights()[0], model.layers[0].get_weights()[0])
    assert torch.equal(other.layers[1].kernel.detach(), before)


class _WithTorchModule(layers.Layer):
    """A Lamina layer holding a plain torch module: its parameters are saved too (nothing lost)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proj = nn.Linear(3, 2)

    def call(self, x):
        return self.proj(x)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2)


def test_plain_torch_submodules_are_saved(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), _WithTorchModule()])
    model.save_weights(tmp_path / "m.weights.h5")
    assert h5_tree(tmp_path / "m.weights.h5") == {
        "layers/__with_torch_module/proj/vars/0": (2, 3),
        "layers/__with_torch_module/proj/vars/1": (2,),
    }
    other = lamina.Sequential([lamina.Input((3,)), _WithTorchModule()])
    other.load_weights(tmp_path / "m.weights.h5")
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(lamina_predict(model, x), lamina_predict(other, x))


def test_loaded_model_is_a_plain_module_whose_state_dict_loads(tmp_path):
    model = _lamina_seq()
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded, nn.Module)
    state = loaded.state_dict()
    assert set(state) == set(model.state_dict())
    x = np.ones((2, 3), "float32")
    expected = lamina_predict(model, x)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    model.load_state_dict(state)  # torch's own API on the loaded model's state
    np.testing.assert_array_equal(lamina_predict(model, x), expected)
    torch.save(state, tmp_path / "state.pt")
    again = lamina.models.load_model(tmp_path / "m.keras")
    again.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))
    np.testing.assert_array_equal(lamina_predict(again, x), expected)


def _trained(seed=0):
    model = _lamina_seq()
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(seed)
    model.fit(
        rng.standard_normal((8, 3)).astype("float32"),
        rng.uniform(size=(8, 2)).astype("float32"),
        verbose=0,
        batch_size=4,
    )
    return model


def test_optimizer_slots_restored_into_an_untrained_compiled_model(tmp_path):
    trained = _trained()
    trained.save_weights(tmp_path / "m.weights.h5")
    fresh = _lamina_seq()
    fresh.compile(optimizer="adam", loss="mse")  # optimizer not built yet: loading builds it
    fresh.load_weights(tmp_path / "m.weights.h5")
    assert len(fresh.optimizer.variables) == len(trained.optimizer.variables) == 10
    for a, b in zip(fresh.optimizer.variables, trained.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_other_optimizer_state_is_skipped_with_a_warning(tmp_path):
    _trained().save_weights(tmp_path / "m.weights.h5")
    other = _lamina_seq()
    other.compile(optimizer=lamina.optimizers.SGD(momentum=0.9), loss="mse")
    other.optimizer.build(other.trainable_variables)
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer 'sgd'"):
        other.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(
        other.layers[0].get_weights()[0], _read(tmp_path / "m.weights.h5", "layers/dense/vars/0")
    )


def test_optimizer_state_of_the_wrong_shape_is_refused_as_keras_refuses_it(tmp_path):
    """Keras 3's layout with as many optimizer variables as the optimizer has, one of another shape: Keras's
    ``assign`` raises; so does Lamina, naming the optimizer, the variable and both shapes (nothing is loaded)."""
    import h5py

    _trained().save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "r+") as f:
        del f["optimizer/vars/2"]  # the first kernel's momentum, (3, 4)
        f["optimizer/vars/2"] = np.zeros((4, 3), np.float32)
    k = keras()
    theirs = _keras_seq()
    theirs.compile(optimizer=k.optimizers.Adam(), loss="mse")
    theirs.optimizer.build(theirs.trainable_variables)
    with pytest.raises(ValueError, match=r"shape"):
        theirs.load_weights(tmp_path / "m.weights.h5")
    ours = _lamina_seq()
    ours.compile(optimizer="adam", loss="mse")
    before = ours.get_weights()
    with pytest.raises(
        ValueError,
        match=r"optimizer 'adam\S*' \(Adam\) at 'optimizer': optimizer variable '\S+_dense\S*_kernel_momentum' "
        r"expects shape \(3, 4\), the file has shape \(4, 3\) \(at 'optimizer/vars/2'\)\.\nNo weight was changed",
    ):
        ours.load_weights(tmp_path / "m.weights.h5")
    for a, b in zip(ours.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(ours.optimizer.iterations) == 0


def _read(path, name):
    import h5py

    with h5py.File(path, "r") as f:
        return f[name][()]
