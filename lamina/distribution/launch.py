"""``spawn``: multi-process data parallelism from a plain ``python train.py``, without a launcher."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from typing import Any

import torch


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, fn: Callable, args: tuple, world: int, addr: str, port: int, results: Any) -> None:
    os.environ.update(
        {
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_WORLD_SIZE": str(world),
            "GROUP_RANK": "0",
            "MASTER_ADDR": addr,
            "MASTER_PORT": str(port),
        }
    )
    out = fn(*args)
    if rank == 0:
        results.put(out)
    import torch.distributed as dist

    if dist.is_initialized():
        # Every process leaves the group together: one process tearing down its gloo pairs while another is
        # still connected aborts the other ("terminate called without an active exception").
        dist.barrier()
        dist.destroy_process_group()
    # Skip interpreter teardown: C++ threads of the communication backend can abort a worker at exit
    # ("terminate called without an active exception") after its work is done and reported.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def spawn(
    fn: Callable,
    args: tuple = (),
    num_processes: int | None = None,
    *,
    master_addr: str = "127.0.0.1",
    master_port: int | None = None,
) -> Any:
    """Runs ``fn(*args)`` in ``num_processes`` local processes, as ``torchrun`` would; returns rank 0's result.

    Inside ``fn``, ``set_distribution(DataParallel())`` joins the job exactly as under torchrun, so
    one GPU machine trains on all its GPUs from a plain ``python train.py``. ``fn`` must be a
    module-level function (it is pickled to the new processes), and the script's entry point must
    be guarded by ``if __name__ == "__main__":``.

    Args:
        fn: the training function.
        args: its positional arguments.
        num_processes: default one per GPU (1 without GPUs: then ``fn`` runs in this process).
        master_addr: the rendezvous address.
        master_port: the rendezvous port (default: a free one).

    Raises:
        torch.multiprocessing.ProcessRaisedException: with the failing process's traceback, after
            the other processes were stopped.
    """
    if num_processes is None:
        num_processes = torch.cuda.device_count() or 1
    if num_processes < 1:
        raise ValueError(f"`num_processes` must be at least 1. Received: num_processes={num_processes}")
    if num_processes == 1:
        return fn(*args)
    port = master_port or _free_port()
    ctx = torch.multiprocessing.get_context("spawn")
    results = ctx.SimpleQueue()
    pc = torch.multiprocessing.start_processes(
        _worker,
        args=(fn, tuple(args), num_processes, master_addr, port, results),
        nprocs=num_processes,
        join=False,
        start_method="spawn",
    )
    result = None
    while True:
        while not results.empty():  # drain while waiting, so a large result never blocks the child
            result = results.get()
        if pc.join(timeout=0.2):
            break
    while not results.empty():
        result = results.get()
    return result
