"""The train step as one program, for ``jit_compile=True``: forward, loss, backward and the optimizer update.

``torch.compile`` cannot trace ``Tensor.backward()`` (the graph breaks there), so the gradients are taken
functionally instead: ``torch.func.grad_and_value`` of the loss with respect to the model's trainable weights,
swapped into the layers by torch's own reparametrization (what ``torch.func.functional_call`` does). The
tracer then sees the forward pass, the loss, its gradients and, after them, the optimizer update with the loss
and metric tracking as one function, and Inductor compiles it as one graph.

State a forward pass changes in place (``BatchNormalization``'s moving statistics) must not be changed from
inside the gradient transform: the step hands the layers copies of exactly the tensors that the eager first step
saw change (by their version counters), and writes the copies back after the transform.

A model this cannot trace (a layer with Python side effects, a fused kernel without compiler support) runs the
two-part compiled step of ``function_factory`` instead; see ``StepFunctions._install_compiled_train_step``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn.utils.stateless import _reparametrize_module


class WholeStep:
    """The train step of ``model`` as one traceable function (``traced``) and its eager twin (``eager``).

    Args:
        model: a compiled ``Model`` whose ``train_step`` is the trainer's own.

    Example:
        >>> import numpy as np, lamina
        >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
        >>> model.compile(optimizer="sgd", loss="mse", jit_compile=True)
        >>> _ = model.fit(np.ones((4, 3)), np.ones((4, 2)), batch_size=2, epochs=2, verbose=0)
        >>> model._compiled_whole.fallback_reason is None   # one program: forward, backward and update
        True
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._mutated: set[int] = set()  # ids of state tensors a forward pass changes in place

    @property
    def name(self) -> str:
        return self.model.name

    def _state(self, trainable_ids: set[int]) -> list[tuple[str, torch.Tensor]]:
        """Every named tensor of the model that is not trained: buffers and frozen parameters, aliases included."""
        model = self.model
        named = [*model.named_buffers(remove_duplicate=False), *model.named_parameters(remove_duplicate=False)]
        return [(n, t) for n, t in named if id(t) not in trainable_ids]

    def eager(self, x: Any, y: Any, sample_weight: Any, variables: list[Any]) -> Any:
        """The eager step (first call, other batch sizes), noting which state tensors its forward pass changes."""
        model = self.model
        state = self._state({id(v) for v in variables})
        before = [t._version for _, t in state]
        y_pred = model._train_parts(x, y, sample_weight, variables, compiled=False)
        # the update changes no layer state (optimizer slots and metrics are not the model's tensors)
        self._mutated |= {id(t) for (_, t), v in zip(state, before, strict=True) if t._version != v}
        return y_pred

    def traced(self, x: Any, y: Any, sample_weight: Any, variables: list[Any]) -> Any:
        """One program: gradients of the loss by ``grad_and_value``, then the optimizer update and tracking.

        ``variables`` are the trainable weights (``model._train_variables()``), passed in so that the compiled
        graph is guarded on them, not on the trainer's cache of them (emptied every epoch).
        """
        model = self.model
        index = {id(v): i for i, v in enumerate(variables)}
        weight_names = [(n, index[id(p)]) for n, p in model.named_parameters(remove_duplicate=False) if id(p) in index]
        state = self._state(set(index))
        mutated = [(n, t) for n, t in state if id(t) in self._mutated]

        def loss_of(values: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, Any]:
            copies = [t.detach().clone() for _, t in mutated]
            mapping = {n: values[i] for n, i in weight_names}
            mapping.update({n: c for (n, _), c in zip(mutated, copies, strict=True)})
            with _reparametrize_module(model, mapping):
                with model._autocast():
                    y_pred, loss = model._forward_loss(x, y, sample_weight)
            return model._scaled_loss(loss), (loss, y_pred, copies)

        grad_fn = torch.func.grad_and_value(loss_of, has_aux=True)
        grads, (_, (loss, y_pred, copies)) = grad_fn(tuple(v.detach() for v in variables))
        with torch.no_grad():
            for (_, t), c in zip(mutated, copies, strict=True):
                t.copy_(c)
            model._apply_update(x, y, y_pred, sample_weight, loss.detach(), list(grads))
        return y_pred
