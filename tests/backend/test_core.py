"""backend.clear_session(free_memory=...): names reset, and memory held by deleted models freed at once."""

import gc
import weakref

import keras
import pytest

import lamina


def _cyclic_model():
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    model.self_ref = [model]  # a reference cycle: only the garbage collector frees it
    return weakref.ref(model)


def test_clear_session_free_memory_collects_deleted_models():
    gc.disable()  # so only clear_session can collect the cycle
    try:
        ref = _cyclic_model()
        assert ref() is not None
        lamina.backend.clear_session(free_memory=False)
        assert ref() is not None  # names were reset, nothing collected
        lamina.backend.clear_session(free_memory=True)
        assert ref() is None
        ref = _cyclic_model()
        lamina.backend.clear_session()  # Keras's default is free_memory=True
        assert ref() is None
    finally:
        gc.enable()


def test_clear_session_resets_names_like_keras():
    for k in (lamina, keras):
        k.layers.Dense(1), k.layers.Dense(1)
        k.backend.clear_session(free_memory=True)
        assert k.layers.Dense(1).name == "dense"
    with pytest.raises(TypeError, match="Received: free_memory=1"):
        lamina.backend.clear_session(free_memory=1)
