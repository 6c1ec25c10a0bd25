"""A relu convolution followed by max pooling runs as relu(max_pool(conv)) in Sequential and Functional models:
the same outputs and gradients as the layer-by-layer order (which a hook asks for), and Keras's after a fit."""

import keras  # the real peer: a test extra, never skipped
import numpy as np
import torch

import lamina


def _relu_inputs(model, x):
    """The shapes of the tensors relu ran on during a forward pass (aten-level, whatever the layer)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    shapes = []

    class Log(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func in (torch.ops.aten.relu_.default, torch.ops.aten.relu.default):
                shapes.append(tuple(args[0].shape))
            return func(*args, **(kwargs or {}))

    with Log():
        out = model(x)
    return out, shapes


def _conv_pool_stack():
    return lamina.Sequential(
        [
            lamina.Input((9, 9, 2)),
            lamina.layers.Conv2D(3, 1, activation="relu", kernel_initializer="ones"),  # 1x1: ties at 0
            lamina.layers.MaxPooling2D(2, padding="same"),
            lamina.layers.Conv2D(4, 3, activation="relu", padding="same"),
            lamina.layers.MaxPooling2D(2),
            lamina.layers.Flatten(),
            lamina.layers.Dense(2),
        ]
    )


def test_relu_of_a_convolution_runs_after_the_max_pooling_that_follows_it():
    """Conv(relu) then MaxPooling runs as relu(max_pool(conv)): relu on the pooled tensor, with the output and the
    gradients (input and every weight) of the layer-by-layer computation, which a forward hook asks for."""
    x = _inputs()
    model = _conv_pool_stack()
    _assert_reordered_as_layer_by_layer(model, x, [model.layers[0], model.layers[2]])
    assert "_relu_deferred" not in model.layers[0].__dict__ and "_relu_after" not in model.layers[1].__dict__


def test_conv_pool_stack_equals_keras_after_a_fit():
    """The reordered pair in training, inference and a second model built from the same weights, against Keras."""
    model = _conv_pool_stack()
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 9, 9, 2)).astype("float32"), rng.standard_normal((8, 2)).astype("float32")
    theirs = keras.Sequential(
        [
            keras.Input((9, 9, 2)),
            keras.layers.Conv2D(3, 1, activation="relu"),
            keras.layers.MaxPooling2D(2, padding="same"),
            keras.layers.Conv2D(4, 3, activation="relu", padding="same"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    theirs.set_weights(model.get_weights())
    theirs.compile(optimizer="sgd", loss="mse")
    ours_h = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history["loss"]
    theirs_h = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history["loss"]
    assert len(ours_h) == len(theirs_h) == 2
    np.testing.assert_allclose(ours_h, theirs_h, rtol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def _functional(second_reader=False, conv_output=False):
    inputs = lamina.Input((9, 9, 2))
    c1 = lamina.layers.Conv2D(3, 1, activation="relu", kernel_initializer="ones")(inputs)
    p1 = lamina.layers.MaxPooling2D(2, padding="same")(c1)
    c2 = lamina.layers.Conv2D(4, 3, activation="relu", padding="same")(p1)
    p2 = lamina.layers.MaxPooling2D(2)(c2)
    out = lamina.layers.Dense(2)(lamina.layers.Flatten()(p2))
    if second_reader:  # the first conv's output is read twice: its relu must be applied where it was
        out = lamina.layers.Add()([out, lamina.layers.Dense(2)(lamina.layers.GlobalAveragePooling2D()(c1))])
    outputs = [out, c2] if conv_output else out
    return lamina.Model(inputs, outputs)


def _inputs():
    torch.manual_seed(0)
    x = torch.randn(3, 9, 9, 2)
    x[0, :4, :4, :] = torch.tensor([0.0, -1.0]).repeat(4, 4, 1)  # windows whose maximum is 0 or negative
    x[1, :2, :2, :] = 2.0  # a window of equal positive values
    return x.requires_grad_(True)


def _grads(model, out, x):
    loss = sum(o.square().sum() for o in (out if isinstance(out, list) else [out]))
    return torch.autograd.grad(loss, [x, *model.trainable_weights])


def test_functional_pairs_are_reordered_with_the_layer_by_layer_results():
    model = _functional()
    _assert_reordered_as_layer_by_layer(model, _inputs(), [model.get_layer(index=i) for i in (1, 3)])


def _assert_reordered_as_layer_by_layer(model, x, convs):
    """``model`` (two relu conv + max pooling pairs) runs relu on the pooled tensors; with a forward hook on each
    of ``convs`` (a hook sees the conv's output: no reordering) on the convs' outputs. The outputs are bit-equal
    and the gradients of the input and all 7 weights equal."""
    fused, shapes = _relu_inputs(model, x)
    assert shapes == [(3, 3, 5, 5), (3, 4, 2, 2)]  # N, C, H, W of the pooled tensors (the convs': 9x9, 5x5)
    grads_fused = _grads(model, fused, x)
    handles = [conv.register_forward_hook(lambda *a: None) for conv in convs]
    try:
        plain, shapes = _relu_inputs(model, x)
        grads_plain = _grads(model, plain, x)
    finally:
        for h in handles:
            h.remove()
    assert shapes == [(3, 3, 9, 9), (3, 4, 5, 5)]
    torch.testing.assert_close(fused, plain, rtol=0, atol=0)
    assert len(grads_fused) == len(grads_plain) == 7
    for a, b in zip(grads_fused, grads_plain, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_a_conv_output_read_elsewhere_keeps_its_relu():
    """A second reader of the first conv's output, or the second conv's output as a model output: those pairs run
    layer by layer (relu on the conv's output), the others are still reordered; results equal Keras's."""
    for kwargs, want in (
        ({"second_reader": True}, [(3, 3, 9, 9), (3, 4, 2, 2)]),
        ({"conv_output": True}, [(3, 3, 5, 5), (3, 4, 5, 5)]),
    ):
        model = _functional(**kwargs)
        x = _inputs()
        out, shapes = _relu_inputs(model, x)
        assert shapes == want, kwargs
        theirs = keras.Model.from_config(model.get_config())
        theirs.set_weights(model.get_weights())
        expected = theirs(x.detach().numpy())
        outs, expected = (out, expected) if isinstance(out, list) else ([out], [expected])
        assert len(outs) == len(expected) == (2 if kwargs.get("conv_output") else 1)
        for a, b in zip(outs, expected, strict=True):
            np.testing.assert_allclose(a.detach().numpy(), keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6)


def test_a_subclass_with_its_own_call_is_run_layer_by_layer():
    """A max pooling subclass with its own ``call`` does not know to apply the convolution's relu: no reordering."""

    class LoggedPooling(lamina.layers.MaxPooling2D):
        def call(self, inputs):
            return super().call(inputs)

    model = lamina.Sequential(
        [
            lamina.Input((6, 6, 1)),
            lamina.layers.Conv2D(2, 1, activation="relu"),
            LoggedPooling(2),
            lamina.layers.Flatten(),
        ]
    )
    x = torch.randn(2, 6, 6, 1)
    out, shapes = _relu_inputs(model, x)
    assert shapes == [(2, 2, 6, 6)]  # on the convolution's output, as written
    assert bool((out >= 0).all()) and bool((out > 0).any())
