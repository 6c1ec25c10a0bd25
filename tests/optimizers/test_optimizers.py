"""Each optimizer against the real Keras 3 on the same weights and gradients (5 steps, 1e-6 relative)."""

import copy

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import optimizers
from tests.optimizers.parity import run_parity

CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"momentum": 0.5, "clipvalue": 0.3}),
    ("Adam", {}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("Adam", {"weight_decay": 0.1, "clipnorm": 1.0}),
    ("Adam", {"global_clipnorm": 0.5, "beta_1": 0.8, "epsilon": 1e-5}),
    ("Adam", {"use_ema": True, "ema_momentum": 0.9}),
    ("Adam", {"use_ema": True, "ema_overwrite_frequency": 2}),
    ("Adam", {"gradient_accumulation_steps": 2}),
    ("Adam", {"loss_scale_factor": 8.0}),
    ("AdamW", {}),
    ("AdamW", {"weight_decay": 0.1, "amsgrad": True, "clipvalue": 0.5}),
    ("Adamax", {}),
    ("Adamax", {"learning_rate": 0.01, "weight_decay": 0.05, "global_clipnorm": 1.0}),
    ("Nadam", {}),
    ("Nadam", {"learning_rate": 0.01, "clipnorm": 0.5, "use_ema": True}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.9, "centered": True}),
    ("RMSprop", {"rho": 0.8, "weight_decay": 0.01, "clipvalue": 0.2}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adagrad", {"initial_accumulator_value": 0.5, "clipnorm": 1.0}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"rho": 0.9, "weight_decay": 0.01}),
    ("Adafactor", {}),
    ("Adafactor", {"learning_rate": 0.1, "relative_step": False, "clip_threshold": 0.5}),
    ("Lion", {}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "weight_decay": 0.1}),
    ("Ftrl", {}),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.1,
            "l2_shrinkage_regularization_strength": 0.01,
            "beta": 0.5,
            "learning_rate_power": -0.3,
        },
    ),
    ("SGD", {"momentum": 0.5, "gradient_accumulation_steps": 3, "use_ema": True, "ema_overwrite_frequency": 1}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_parity_with_keras(name, kwargs):
    run_parity(getattr(keras.optimizers, name)(**kwargs), getattr(optimizers, name)(**kwargs), steps=5)


@pytest.mark.parametrize("name", ["SGD", "Adam", "Nadam", "Adafactor"])
def test_parity_with_schedule(name):
    ks = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)
    ls = optimizers.schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)
    run_parity(getattr(keras.optimizers, name)(learning_rate=ks), getattr(optimizers, name)(learning_rate=ls))


def test_parity_with_callable_learning_rate():
    run_parity(keras.optimizers.RMSprop(learning_rate=lambda: 0.02), optimizers.RMSprop(learning_rate=lambda: 0.02))


def test_parity_skips_none_gradients():
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        run_parity(keras.optimizers.Adam(0.01), optimizers.Adam(0.01), steps=2, none_at=1)


def test_parity_exclude_from_weight_decay():
    ko, lo = keras.optimizers.AdamW(weight_decay=0.5), optimizers.AdamW(weight_decay=0.5)
    ko.exclude_from_weight_decay(var_names=["v1", "v3"])
    lo.exclude_from_weight_decay(var_names=["v1", "v3"])
    run_parity(ko, lo)


def test_exclude_from_weight_decay_by_variable():
    v0, v1 = lamina.Variable([1.0], name="a"), lamina.Variable([1.0], name="b")
    opt = optimizers.SGD(learning_rate=0.5, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[v1])
    opt.apply([torch.zeros(1), torch.zeros(1)], [v0, v1])
    assert v0.numpy().tolist() == [0.75] and v1.numpy().tolist() == [1.0]


def test_constraint_applied_after_update():
    init = np.array([0.1, -0.2, 0.3], "float32")
    kv, lv = keras.Variable(init.copy(), name="w"), lamina.Variable(init.copy(), name="w")
    kv.constraint = keras.constraints.NonNeg()
    lv.constraint = lamina.constraints.NonNeg()
    g = np.array([1.0, 1.0, -1.0], "float32")
    ko, lo = keras.optimizers.SGD(0.5), optimizers.SGD(0.5)
    for _ in range(2):
        ko.apply([torch.tensor(g)], [kv])
        lo.apply([torch.tensor(g)], [lv])
    np.testing.assert_allclose(lv.numpy(), kv.numpy(), rtol=1e-6)
    assert (lv.numpy() >= 0).all()


@pytest.fixture(scope="module")
def models():
    keras.backend.clear_session(free_memory=False)
    return _models()


def _models():
    km = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    lm = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2), lamina.layers.Dense(1)])
    return km, lm


VARIABLE_CASES = [
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "use_ema": True, "gradient_accumulation_steps": 2}),
    ("AdamW", {}),
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("Nadam", {}),
    ("Adafactor", {}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Ftrl", {}),
    ("Adadelta", {}),
    ("Adagrad", {}),
    ("Lion", {}),
    ("Adamax", {}),
]


@pytest.mark.parametrize("name,kwargs", VARIABLE_CASES)
def test_variables_order_names_shapes_match_keras(models, name, kwargs):
    km, lm = models
    kwargs = {**kwargs, "name": name.lower()}
    ko, lo = getattr(keras.optimizers, name)(**kwargs), getattr(optimizers, name)(**kwargs)
    ko.build(km.trainable_variables)
    lo.build(lm.trainable_variables)
    expected = [(v.name, v.path, tuple(v.shape), lamina.backend.standardize_dtype(v.dtype)) for v in ko.variables]
    assert [
        (v.name, v.path, tuple(v.shape), lamina.backend.standardize_dtype(v.dtype)) for v in lo.variables
    ] == expected


def test_adam_variables_order_spelled_out(models):
    _, lm = models
    opt = optimizers.Adam()
    opt.build(lm.trainable_variables)
    assert [v.path for v in opt.variables][:4] == [
        "adam/iteration",
        "adam/learning_rate",
        "adam/sequential_dense_kernel_momentum",
        "adam/sequential_dense_kernel_velocity",
    ]


def test_state_round_trips_with_keras_store(models):
    km, lm = models
    ko, lo = keras.optimizers.Adam(0.01), optimizers.Adam(0.01)
    ko.build(km.trainable_variables)
    lo.build(lm.trainable_variables)
    for v in lm.trainable_variables:
        lo.apply([torch.ones_like(v.value) for v in lm.trainable_variables])
    store = {}
    lo.save_own_variables(store)
    ko.load_own_variables(store)
    for k, m in zip(ko.variables, lo.variables, strict=True):
        np.testing.assert_array_equal(k.numpy(), m.numpy())
    back = optimizers.Adam(0.01)
    back.build(lm.trainable_variables)
    kstore = {}
    ko.save_own_variables(kstore)
    back.load_own_variables(kstore)
    assert int(back.iterations) == 4
    np.testing.assert_array_equal(back.variables[5].numpy(), lo.variables[5].numpy())


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
        ("SGD", {"momentum": 0.9, "nesterov": True}),
        ("AdamW", {"clipnorm": 1.0}),
        ("RMSprop", {"centered": True, "use_ema": True, "ema_overwrite_frequency": 3}),
        ("Adafactor", {}),
        ("Ftrl", {"beta": 0.1}),
        ("Lion", {"gradient_accumulation_steps": 4}),
        ("Nadam", {}),
        ("Adamax", {"global_clipnorm": 2.0}),
        ("Adagrad", {}),
        ("Adadelta", {"weight_decay": 0.1}),
    ],
)
def test_config_matches_keras_and_round_trips(name, kwargs):
    lo, ko = getattr(optimizers, name)(**kwargs), getattr(keras.optimizers, name)(**kwargs)
    config = lo.get_config()
    kconfig = ko.get_config()
    assert list(config) == list(kconfig)
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in kconfig.items() if k != "name"}
    assert getattr(optimizers, name).from_config(config).get_config() == config
    assert getattr(keras.optimizers, name).from_config(dict(config)).get_config() == config
    assert getattr(optimizers, name).from_config(kconfig).get_config() == kconfig


def test_config_with_schedule_crosses_to_keras():
    lo = optimizers.SGD(learning_rate=optimizers.schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5))
    config = lo.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    assert config["learning_rate"]["module"] == "keras.optimizers.schedules"
    ko = keras.optimizers.SGD.from_config(copy.deepcopy(config))  # Keras's from_config edits its argument
    assert ko.get_config() == config
    back = optimizers.SGD.from_config(ko.get_config())
    assert isinstance(back._learning_rate, optimizers.schedules.CosineDecay)
    assert back.get_config() == config


def test_serialize_deserialize_and_keras_cross():
    lo = optimizers.Adam(learning_rate=0.01, beta_2=0.99)
    config = optimizers.serialize(lo)
    assert config["class_name"] == "Adam" and config["module"] == "keras.optimizers"
    ko = keras.optimizers.deserialize(config)
    assert ko.get_config()["beta_2"] == 0.99
    back = optimizers.deserialize(keras.optimizers.serialize(ko))
    assert isinstance(back, optimizers.Adam) and back.get_config() == ko.get_config()
    assert isinstance(optimizers.deserialize({"class_name": "rmsprop", "config": {}}), optimizers.RMSprop)


@pytest.mark.parametrize(
    "name,cls",
    [
        ("adam", "Adam"),
        ("SGD", "SGD"),
        ("rmsprop", "RMSprop"),
        ("AdamW", "AdamW"),
        ("nadam", "Nadam"),
        ("adafactor", "Adafactor"),
        ("ftrl", "Ftrl"),
        ("lion", "Lion"),
        ("adamax", "Adamax"),
        ("adagrad", "Adagrad"),
        ("adadelta", "Adadelta"),
    ],
)
def test_get_by_name(name, cls):
    opt = optimizers.get(name)
    assert type(opt).__name__ == cls
    assert opt.get_config() == {**keras.optimizers.get(name).get_config(), "name": opt.name}


def test_get_passthrough_dict_none_and_unknown():
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    assert isinstance(optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.5}}), optimizers.Adam)
    with pytest.raises(ValueError, match=r"Could not interpret optimizer identifier: 'adamm'.*adam, adamax"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="Could not interpret"):
        optimizers.get(3)


def test_default_names_like_keras():
    assert [optimizers.RMSprop().name, optimizers.AdamW().name, optimizers.Adam().name, optimizers.Adam().name] == [
        "rm_sprop",
        "adam_w",
        "adam",
        "adam_1",
    ]


def test_iterations_and_apply_gradients():
    w = lamina.Variable(np.ones((2, 2), "float32"), name="w")
    opt = optimizers.Adam()
    assert int(opt.iterations) == 0
    for i in range(3):
        it = opt.apply_gradients([(torch.ones(2, 2), w)])
        assert int(it) == i + 1
    assert opt.iterations.dtype == torch.int32 and opt.iterations.value.device == w.value.device
    opt.apply([torch.ones(2, 2)])
    assert int(opt.iterations) == 4


def test_iterations_with_gradient_accumulation():
    w = lamina.Variable([1.0], name="w")
    opt = optimizers.SGD(1.0, gradient_accumulation_steps=2)
    opt.apply([torch.tensor([1.0])], [w])
    assert w.numpy().tolist() == [1.0] and int(opt.iterations) == 0
    opt.apply([torch.tensor([3.0])], [w])
    assert w.numpy().tolist() == [-1.0] and int(opt.iterations) == 1


def test_learning_rate_setter_and_reads():
    opt = optimizers.Adam(learning_rate=0.01)
    assert isinstance(opt.learning_rate, lamina.Variable)
    assert float(opt.learning_rate) == pytest.approx(0.01)
    opt.learning_rate = 0.5
    assert float(opt.learning_rate) == 0.5
    assert opt.get_config()["learning_rate"] == 0.5
    w = lamina.Variable([1.0], name="w")
    opt2 = optimizers.SGD(0.1)
    opt2.build([w])
    opt2.learning_rate = 0.25
    opt2.apply([torch.tensor([1.0])])
    assert w.numpy().tolist() == [0.75]


def test_learning_rate_schedule_reads_current_value_and_is_not_settable():
    opt = optimizers.SGD(learning_rate=optimizers.schedules.ExponentialDecay(1.0, 1, 0.5))
    assert [v.name for v in opt.variables] == ["iteration"]
    w = lamina.Variable([0.0], name="w")
    opt.apply([torch.tensor([1.0])], [w])
    assert float(opt.learning_rate) == 0.5
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def test_setting_a_schedule_untracks_the_learning_rate_variable():
    ko, lo = keras.optimizers.SGD(), optimizers.SGD()
    ko.learning_rate = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    lo.learning_rate = optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    assert [v.name for v in lo.variables] == [v.name for v in ko.variables] == ["iteration"]
    assert float(lo.learning_rate) == pytest.approx(float(ko.learning_rate))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"learning_rate": 1}, "learning_rate"),
        ({"learning_rate": "x"}, "learning_rate"),
        ({"clipnorm": 1.0, "clipvalue": 1.0}, "Only one of"),
        ({"gradient_accumulation_steps": 1}, "gradient_accumulation_steps"),
        ({"use_ema": True, "ema_momentum": 2.0}, "ema_momentum"),
        ({"use_ema": True, "ema_overwrite_frequency": 0.5}, "ema_overwrite_frequency"),
        ({"foo": 1}, "not recognized"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optimizers.Adam(**kwargs)


@pytest.mark.parametrize(
    "cls,kwargs,match",
    [
        ("SGD", {"momentum": 1}, "momentum"),
        ("SGD", {"momentum": 1.5}, "momentum"),
        ("Lion", {"beta_1": 0.0}, "beta_1"),
        ("AdamW", {"weight_decay": None}, "weight_decay"),
        ("Ftrl", {"learning_rate_power": 0.5}, "learning_rate_power"),
        ("Ftrl", {"l1_regularization_strength": -1.0}, "l1_regularization_strength"),
        ("Ftrl", {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
    ],
)
def test_invalid_algorithm_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(optimizers, cls)(**kwargs)


def test_apply_errors():
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([torch.ones(1)])
    w = lamina.Variable([1.0], name="w")
    opt.apply([torch.ones(1)], [w])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([torch.ones(1)], [lamina.Variable([1.0], name="other")])
    with pytest.raises(ValueError, match="one-to-on"):
        opt.apply([torch.ones(1), torch.ones(1)])
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply([None], [w])
    opt.apply([])  # no-op like Keras
    assert int(opt.iterations) == 1


def test_update_is_in_place_on_parameters_without_autograd():
    layer = lamina.layers.Dense(2)
    layer.build((None, 3))
    kernel = layer.kernel
    opt = optimizers.Adam(0.1)
    opt.apply([torch.ones(3, 2), torch.ones(2)], layer.trainable_weights)
    assert layer.kernel is kernel and kernel.grad is None and kernel.requires_grad
    slot = opt.variables[2]
    assert slot.value.device == kernel.device and not slot.trainable


def test_finalize_variable_values_with_ema():
    w = lamina.Variable([0.0], name="w")
    opt = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    opt.apply([torch.tensor([-2.0])], [w])  # first step: average = w = 2
    opt.apply([torch.tensor([-2.0])], [w])  # w = 4, average = 0.5 * 2 + 0.5 * 4 = 3
    opt.finalize_variable_values([w])
    assert w.numpy().tolist() == [3.0]


def test_scale_loss():
    assert optimizers.SGD(loss_scale_factor=4.0).scale_loss(2.0) == 8.0
    assert optimizers.SGD().scale_loss(2.0) == 2.0


def test_custom_update_step_optimizer():
    class SignSGD(optimizers.Optimizer):
        def __init__(self, learning_rate=0.1, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)

        def build(self, variables):
            super().build(variables)
            self.counts = self.add_optimizer_variables(variables, "count")

        def update_step(self, gradient, variable, learning_rate):
            self.assign_sub(variable, torch.sign(gradient) * learning_rate.value)
            self.assign_add(self.counts[self._get_variable_index(variable)], torch.ones_like(gradient))

    w = lamina.Variable([1.0, 1.0], name="w")
    opt = SignSGD()
    opt.apply([torch.tensor([3.0, -2.0])], [w])
    np.testing.assert_allclose(w.numpy(), [0.9, 1.1], rtol=1e-6)
    assert [v.name for v in opt.variables] == ["iteration", "learning_rate", "w_count"]


def test_apply_compiles_as_one_graph():
    from torch._dynamo.utils import counters

    layer = lamina.layers.Dense(3)
    layer.build((None, 2))
    opt = optimizers.Adam(
        0.01, global_clipnorm=1.0, use_ema=True, ema_overwrite_frequency=2, gradient_accumulation_steps=2
    )
    opt.build(layer.trainable_weights)
    torch._dynamo.reset()
    counters.clear()
    step = torch.compile(lambda g: opt.apply(g), backend="eager", fullgraph=True)
    for i in range(4):
        step([torch.full_like(v.value, 0.5) for v in layer.trainable_weights])
        if i == 1:
            opt.learning_rate = 0.02
    assert counters["stats"]["unique_graphs"] == 1
    assert int(opt._iterations) == 4
    torch._dynamo.reset()


COMPUTED_ONCE_CASES = [
    ("Adam", {"learning_rate": lamina.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)}),
    pytest.param("Adamax", {}, marks=pytest.mark.slow),
    pytest.param("Nadam", {}, marks=pytest.mark.slow),
    pytest.param("Adafactor", {}, marks=pytest.mark.slow),
    pytest.param("Lamb", {}, marks=pytest.mark.slow),
    pytest.param("ScheduleFreeAdamW", {"warmup_steps": 2}, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name,kwargs", COMPUTED_ONCE_CASES)
def test_inductor_compiled_update_equals_eager(name, kwargs):
    # Under Inductor on the CPU the step's scalars (bias corrections, a schedule's rate) are computed once per
    # step (optimizer_utils.computed_once) instead of inside every element's loop: the values must not change.
    torch.manual_seed(0)
    shapes = [(37, 5), (5,), (3, 4, 2)]
    weights = {}
    for compiled in (False, True):
        opt = getattr(optimizers, name)(**copy.deepcopy(kwargs))
        variables = [lamina.Variable(torch.linspace(-1, 1, int(np.prod(s))).reshape(s)) for s in shapes]
        opt.build(variables)
        step = (
            (lambda g: opt.apply(g, variables))
            if not compiled
            else torch.compile(lambda g: opt.apply(g, variables), backend="inductor", fullgraph=True)
        )
        for i in range(3):
            gen = torch.Generator().manual_seed(i)
            step([torch.randn(s, generator=gen) for s in shapes])
        weights[compiled] = [v.numpy().copy() for v in variables]
    for eager_w, compiled_w in zip(weights[False], weights[True], strict=True):
        assert not np.array_equal(eager_w, np.linspace(-1, 1, eager_w.size).reshape(eager_w.shape))
        # eager Adam runs torch's fused CPU kernel (eps rescaled), compiled the foreach form: 1e-5, as Adam's parity
        np.testing.assert_allclose(compiled_w, eager_w, rtol=1e-5, atol=1e-6)
    torch._dynamo.reset()


def test_computed_once_is_the_scalar_itself_when_eager():
    from lamina.optimizers.optimizer_utils import computed_once

    x = torch.tensor(0.25)
    assert computed_once(x) is x
    compiled = torch.compile(lambda t: computed_once(t * 3.0) * torch.ones(4), backend="inductor", fullgraph=True)
    np.testing.assert_array_equal(compiled(x).numpy(), np.full(4, 0.75, np.float32))
    torch._dynamo.reset()
