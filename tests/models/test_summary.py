"""``model.summary()`` prints exactly what Keras 3 prints; ``estimate_flops`` matches torch's FLOP counter.

Each model is built twice, in Lamina and in the real Keras (torch backend), after clearing both
sessions so automatic names agree, and the two summaries are compared as strings.
"""

import random
import warnings

import keras  # the real peer: a test extra, never skipped
import numpy as np
import pytest
import torch

import lamina
from lamina.models import flops as lamina_flops
from lamina.models import summary as lamina_summary
from lamina.models import text_table


def _fresh() -> None:
    keras.backend.clear_session(free_memory=False)
    lamina.backend.clear_session(free_memory=False)


def _summary(model, **kwargs) -> str:
    out = []
    model.summary(print_fn=out.append, **kwargs)
    assert len(out) == 1  # Keras passes the whole text in one call
    return out[0]


def _both(build, **kwargs) -> tuple[str, str]:
    texts = []
    for lib in (keras, lamina):
        _fresh()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            texts.append(_summary(build(lib), **kwargs))
    return texts[0], texts[1]


def _assert_same(build, **kwargs) -> str:
    expected, got = _both(build, **kwargs)
    assert got == expected, f"\nKeras:\n{expected}\nLamina:\n{got}"
    return got


# ------------------------------------------------------------------------------------------------ models


def guide_three_layers(lib, call=False):
    layers = lib.layers
    model = lib.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )
    if call:
        model(np.ones((3, 3), "float32"))
    return model


def guide_input_dense(lib):
    model = lib.Sequential()
    model.add(lib.Input(shape=(4,)))
    model.add(lib.layers.Dense(2, activation="relu", name="layer1"))
    return model


def guide_input_shape(lib):
    model = lib.Sequential()
    model.add(lib.layers.Dense(2, activation="relu", input_shape=(4,), name="layer1"))
    return model


def guide_convnet(lib, stage):
    layers = lib.layers
    model = lib.Sequential()
    model.add(lib.Input(shape=(250, 250, 3)))
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    if stage >= 1:
        model.add(layers.Conv2D(32, 3, activation="relu"))
        model.add(layers.Conv2D(32, 3, activation="relu"))
        model.add(layers.MaxPooling2D(3))
        model.add(layers.Conv2D(32, 3, activation="relu"))
        model.add(layers.Conv2D(32, 3, activation="relu"))
        model.add(layers.MaxPooling2D(2))
    if stage >= 2:
        model.add(layers.GlobalMaxPooling2D())
        model.add(layers.Dense(10))
    return model


def nested(lib, freeze=False):
    layers = lib.layers
    inner = lib.Sequential([layers.Dense(3, name="inner_a"), layers.Dense(2, name="inner_b")], name="inner")
    model = lib.Sequential(
        [lib.Input((4,)), layers.Dense(5, name="first"), inner, layers.Dense(1, name="last")], name="outer"
    )
    if freeze:
        inner.trainable = False
    return model


def long_names(lib):
    layers = lib.layers
    return lib.Sequential(
        [
            lib.Input((4,)),
            layers.Dense(2, name="a_very_long_layer_name_that_goes_on_and_on_forever_and_ever"),
            layers.Dense(3, name="short words in a name that wrap"),
            layers.Dense(1, name="이름이_아주_긴_한국어_레이어_이름입니다"),
        ],
        name="a_model_with_a_name_long_enough_to_need_more_than_one_console_line_" + "x" * 40,
    )


def subclassed(lib, call=True):
    class TwoDense(lib.Model):
        def __init__(self):
            super().__init__(name="two_dense")
            self.d1 = lib.layers.Dense(3, name="d1")
            self.d2 = lib.layers.Dense(2, name="d2")

        def call(self, x):
            return self.d2(self.d1(x))

    model = TwoDense()
    if call:
        model(np.ones((3, 5), "float32"))
    return model


def built_by_build(lib):
    model = lib.Sequential([lib.layers.Dense(3, name="a"), lib.layers.Activation("relu", name="act")])
    model.build((None, 4))
    return model


def with_batchnorm(lib):
    layers = lib.layers
    return lib.Sequential(
        [lib.Input((8,)), layers.Dense(16, name="d"), layers.BatchNormalization(name="bn"), layers.Dense(2, name="out")]
    )


def float64_and_big(lib):
    layers = lib.layers
    return lib.Sequential(
        [lib.Input((4,)), layers.Dense(2, name="f64", dtype="float64"), layers.Dense(200_000, name="big")]
    )


def functional_chain(lib):
    x = lib.Input((4,), name="inp")
    h = lib.layers.Dense(3, name="h")(x)
    return lib.Model(inputs=x, outputs=lib.layers.Dense(2, name="o")(h), name="chain")


def functional_two_inputs(lib):
    layers = lib.layers
    a, b = lib.Input((4,), name="a"), lib.Input((3,), name="b")
    merged = layers.Concatenate(name="cat")([layers.Dense(3, name="ha")(a), layers.Dense(3, name="hb")(b)])
    return lib.Model(
        inputs=[a, b], outputs=[layers.Dense(2, name="o")(merged), layers.Dense(1, name="o2")(merged)], name="two_in"
    )


def functional_shared(lib):
    a = lib.Input((4,), name="a")
    shared = lib.layers.Dense(4, name="shared")
    return lib.Model(a, shared(shared(a)), name="shared_twice")


def feature_extractor(lib):
    layers = lib.layers
    initial_model = lib.Sequential(
        [
            lib.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    return lib.Model(
        inputs=initial_model.inputs, outputs=[layer.output for layer in initial_model.layers], name="feature_extractor"
    )


# ------------------------------------------------------------------------------------------------ parity


def test_guide_model_unbuilt():
    text = _assert_same(guide_three_layers)
    assert "0 (unbuilt)" in text and "│ ?" in text
    assert " Total params: 0 (0.00 B)\n" in text


def test_guide_model_built_by_call():
    text = _assert_same(lambda lib: guide_three_layers(lib, call=True))
    assert "(3, 2)" in text and " Total params: 33 (132.00 B)\n" in text


@pytest.mark.parametrize("build", [guide_input_dense, guide_input_shape])
def test_guide_input_and_input_shape(build):
    text = _assert_same(build)
    assert "(None, 2)" in text and " Total params: 10 (40.00 B)\n" in text


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_guide_convnet_stages(stage):
    text = _assert_same(lambda lib: guide_convnet(lib, stage))
    if stage == 2:
        assert " Total params: 49,002 (191.41 KB)\n" in text


def test_show_trainable():
    _assert_same(lambda lib: guide_three_layers(lib, call=True), show_trainable=True)
    _assert_same(built_by_build, show_trainable=True)  # Activation has no weights: "-"


@pytest.mark.parametrize("expand_nested", [False, True])
@pytest.mark.parametrize("freeze", [False, True])
def test_nested_sequential(expand_nested, freeze):
    text = _assert_same(lambda lib: nested(lib, freeze), expand_nested=expand_nested, show_trainable=freeze)
    assert ("└ inner_a" in text) == expand_nested


def test_long_names_wrap_and_truncate():
    for line_length in (None, 40, 60, 100, 150):
        text = _assert_same(long_names, line_length=line_length)
        if line_length == 40:
            assert "…" in text


def test_line_length_and_positions():
    _assert_same(lambda lib: guide_three_layers(lib, call=True), line_length=100)
    _assert_same(lambda lib: guide_three_layers(lib, call=True), line_length=30)
    _assert_same(lambda lib: guide_three_layers(lib, call=True), positions=[0.3, 0.5, 0.7])  # table expands
    _assert_same(lambda lib: guide_three_layers(lib, call=True), line_length=70, positions=[0.5, 0.7, 1.0])


def test_insufficient_width_error_matches_keras():
    errors = []
    for lib in (keras, lamina):
        _fresh()
        with pytest.raises(ValueError) as info:
            guide_three_layers(lib).summary(line_length=6, print_fn=print)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_layer_range():
    _assert_same(nested, layer_range=["inner", "last"])
    _assert_same(nested, layer_range=["last", "first"])  # reversed bounds are swapped
    for bad in (["first"], ["nope", "last"], [1, 2]):
        messages = []
        for lib in (keras, lamina):
            _fresh()
            with pytest.raises(ValueError) as info:
                nested(lib).summary(layer_range=bad, print_fn=print)
            messages.append(str(info.value))
        assert messages[0] == messages[1]


def test_empty_subclassed_and_built_models():
    _assert_same(lambda lib: lib.Sequential(name="empty"))
    _assert_same(subclassed)
    _assert_same(lambda lib: subclassed(lib, call=False))
    _assert_same(built_by_build)


def test_non_trainable_params_and_dtypes():
    text = _assert_same(with_batchnorm, show_trainable=True)
    assert " Non-trainable params: 32 (128.00 B)\n" in text
    _assert_same(float64_and_big)


def test_frozen_layers_counted_non_trainable():
    def frozen(lib):
        model = guide_three_layers(lib, call=True)
        for layer in model.layers[:-1]:
            layer.trainable = False
        return model

    text = _assert_same(frozen, show_trainable=True)
    assert " Non-trainable params: 17 (68.00 B)\n" in text


def test_optimizer_params_line_after_fit():
    def fitted(lib):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="a"), lib.layers.Dense(1, name="b")])
        model.compile(optimizer="adam", loss="mse")
        model.fit(np.ones((8, 4), "float32"), np.ones((8, 1), "float32"), epochs=1, verbose=0)
        return model

    text = _assert_same(fitted)
    assert " Optimizer params: " in text


@pytest.mark.parametrize("build", [functional_chain, functional_two_inputs, functional_shared])
def test_functional_models(build):
    _assert_same(build)
    _assert_same(build, show_trainable=True, line_length=130)


def test_functional_connected_to_column():
    text = _assert_same(functional_two_inputs)
    assert "Connected to" in text and "ha[0][0]," in text and "hb[0][0]" in text


def test_guide_feature_extractor():
    _assert_same(feature_extractor)


def test_default_print_goes_to_stdout_like_keras(capsys):
    for lib in (keras, lamina):
        _fresh()
        guide_three_layers(lib, call=True).summary()
    out = capsys.readouterr().out
    half = len(out) // 2
    assert out[:half] == out[half:]


def test_ansi_styles_on_a_terminal_match_keras(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    outputs = []
    for lib in (keras, lamina):
        _fresh()
        nested(lib, freeze=True).summary(expand_nested=True, show_trainable=True, line_length=60)
        outputs.append(capsys.readouterr().out)
    assert "\x1b[1m" in outputs[0] and "\x1b[38;5;34m" in outputs[0]
    assert outputs[1] == outputs[0]


# ------------------------------------------------------------------------------------------------ renderer fuzz


def _rich_markup(parts):
    from rich.markup import escape

    out = ""
    for part in parts:
        if isinstance(part, str):
            out += escape(part)
            continue
        text, (bold, color) = part
        text = escape(text)
        if bold and color is not None:
            out += f"[bold][color({color})]{text}[/][/]"
        elif bold:
            out += f"[bold]{text}[/]"
        else:
            out += f"[color({color})]{text}[/]"
    return out


def test_table_renderer_matches_rich_on_random_tables():
    """Random cells (spaces, long words, wide characters, styled runs) at random widths, as rich draws them."""
    rich_console = pytest.importorskip("rich.console")
    rich_table = pytest.importorskip("rich.table")
    styles = [(False, 34), (False, 45), (True, 34), (True, None), (False, 33), (True, 9)]

    def word(r):
        n = r.choice([1, 2, 3, 5, 8, 13, 21, 40])
        kind = r.random()
        alphabet = "가나다라" if kind < 0.1 else ("ab…é" if kind < 0.15 else "abcdefgh_  ()0123")
        return "".join(r.choice(alphabet) for _ in range(n))

    def parts(r):
        return [(word(r), r.choice(styles)) if r.random() < 0.4 else word(r) for _ in range(r.randint(0, 4))]

    for seed in range(300):
        r = random.Random(seed)
        ncol = r.randint(1, 5)
        line_length, console_width = r.randint(3, 120), r.randint(10, 130)
        widths = [r.randint(1, 40) for _ in range(ncol)]
        justify = [r.choice(["left", "right", "center"]) for _ in range(ncol)]
        headers = [parts(r) for _ in range(ncol)]
        rows = [[parts(r) for _ in range(ncol)] for _ in range(r.randint(0, 3))]
        title = parts(r)

        columns = [
            rich_table.Column(_rich_markup(h), justify=j, width=w)
            for h, j, w in zip(headers, justify, widths, strict=True)
        ]
        table = rich_table.Table(*columns, width=line_length, show_lines=True)
        for row in rows:
            table.add_row(*[_rich_markup(c) for c in row])
        console = rich_console.Console(highlight=False, force_terminal=False, color_system=None, width=console_width)
        console.begin_capture()
        console.print(_rich_markup(title))
        console.print(table)
        expected = console.end_capture()

        ours = text_table._Console(capture=True)
        ours.width = console_width
        lines = ours.text_lines(text_table._Text.of(*title))
        lines += text_table._render_table(
            [text_table._Text.of(*h) for h in headers],
            justify,
            widths,
            [[text_table._Text.of(*c) for c in row] for row in rows],
            line_length,
        )
        assert ours.render(lines) == expected, f"seed {seed}"


# ------------------------------------------------------------------------------------------------ sizes


def test_readable_memory_size_like_keras():
    from keras.src.utils.summary_utils import readable_memory_size

    for size in (0, 1, 132, 1023.999, 1024, 196008, 5 * 1024**2 + 17, 3.5 * 1024**3, 2 * 1024**6):
        assert lamina_summary.readable_memory_size(size) == readable_memory_size(size)


# ------------------------------------------------------------------------------------------------ Lamina extras


def test_extra_columns_are_opt_in():
    lamina.backend.clear_session(free_memory=False)
    model = guide_three_layers(lamina, call=True)
    plain = _summary(model)
    assert "MACs" not in plain and "Act. size" not in plain
    text = _summary(model, show_flops=True, show_memory=True)
    header = text.splitlines()[2]
    assert "MACs" in header and "Act. size" in header
    assert " Total MACs: 72 (72)\n" in text  # 3*3*2 + 3*2*3 + 3*3*4 for the (3, 3) input shown
    assert " Activation memory: 108.00 B\n" in text  # (3*2 + 3*3 + 3*4) floats
    flops_only = _summary(model, show_flops=True)
    assert "MACs" in flops_only and "Act. size" not in flops_only
    unbuilt = _summary(guide_three_layers(lamina), show_flops=True, show_memory=True)
    assert "some layers unknown" in unbuilt


def test_estimate_flops_dense_values():
    lamina.backend.clear_session(free_memory=False)
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(4), lamina.layers.Dense(2)])
    assert lamina_flops.estimate_flops(model) == {"dense": 12, "dense_1": 8}
    assert lamina_flops.estimate_flops(model, input_shape=(5, 3)) == {"dense": 60, "dense_1": 40}
    assert lamina_flops.estimate_flops(guide_three_layers(lamina)) == {"layer1": None, "layer2": None, "layer3": None}


def _measured_per_layer(model, batch_shape):
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(batch_shape)
    measured = {}
    for layer in model.layers:
        with FlopCounterMode(display=False) as counter:
            x = layer(x)
        measured[layer.name] = counter.get_total_flops()
    return measured


def test_estimate_flops_matches_torch_flop_counter_on_guide_convnet():
    from torch.utils.flop_counter import FlopCounterMode

    lamina.backend.clear_session(free_memory=False)
    model = guide_convnet(lamina, 2)
    estimate = lamina_flops.estimate_flops(model)  # batch None counts as 1
    measured = _measured_per_layer(model, (1, 250, 250, 3))
    for name, flops in measured.items():
        assert estimate[name] * 2 == flops, name
    assert any(flops > 0 for flops in measured.values())
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 250, 250, 3))
    assert 2 * sum(estimate.values()) == counter.get_total_flops()
    assert lamina_flops.estimate_flops(model, input_shape=(None, 250, 250, 3)) == estimate


def test_estimate_flops_matches_torch_flop_counter_on_dense_stack():
    lamina.backend.clear_session(free_memory=False)
    model = guide_three_layers(lamina, call=True)  # built on (3, 3): counts for a batch of 3
    measured = _measured_per_layer(model, (3, 3))
    assert {k: 2 * v for k, v in lamina_flops.estimate_flops(model).items()} == measured


def test_estimate_flops_conv_variants():
    layers = lamina.layers
    lamina.backend.clear_session(free_memory=False)
    model = lamina.Sequential(
        [
            lamina.Input((10, 4)),
            layers.Conv1D(4, 2, groups=2),
            layers.Conv1DTranspose(3, 2, strides=2),
            layers.DepthwiseConv1D(3, depth_multiplier=2),
            layers.SeparableConv1D(5, 2),
            layers.Conv1D(2, 3, dilation_rate=2, padding="same"),
        ]
    )
    estimate = lamina_flops.estimate_flops(model)
    measured = _measured_per_layer(model, (1, 10, 4))
    assert {k: 2 * v for k, v in estimate.items()} == measured
