"""Counts how the bad-input sweep and the file-mutation fuzz of ``tests/reliability`` end.

Run from a checkout's root (its ``lamina`` is the one measured); ``--cases`` points at the folder with
``cases.py``/``fuzz.py`` when measuring an older checkout that lacks them:

    python tools/reliability_sweep.py [--cases tests/reliability] [--show]

Outcomes: ``clean`` (ValueError/TypeError naming the argument, layer or file), ``unnamed`` (right type,
names nothing), ``internal`` (another exception type), ``silent`` (no error: a wrong result), ``crash``
(the process died), ``leak`` (a file left behind), and for the fuzz ``loaded`` (the mutant still loads;
fine) and ``ran`` (code from the file ran). Cases run in a worker process, restarted after a crash.

Example (the figures of issue 14; "before" measures another checkout with this checkout's cases):

    cd /work/base && python /work/wt-rel/tools/reliability_sweep.py --cases /work/wt-rel/tests/reliability
    cd /work/wt-rel && python tools/reliability_sweep.py --show
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import subprocess
import sys
import tempfile
import warnings


def _load(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def classify(exc: BaseException | None, needle: str) -> str:
    if exc is None:
        return "silent"
    if not isinstance(exc, (ValueError, TypeError)):
        return "internal"
    return "clean" if needle.lower() in str(exc).lower() else "unnamed"


def _items(folder: str, kind: str):
    if kind == "sweep":
        return [(c.id, c) for c in _load(os.path.join(folder, "cases.py"), "_rel_cases").CASES]
    fuzz = _load(os.path.join(folder, "fuzz.py"), "_rel_fuzz")
    return [(m.id, m) for m in fuzz.mutants()]


def worker(folder: str, kind: str, start: int) -> None:
    import lamina

    items = _items(folder, kind)
    fuzz = sys.modules.get("_rel_fuzz")
    for i in range(start, len(items)):
        ident, item = items[i]
        with tempfile.TemporaryDirectory() as tmp:
            if kind == "sweep":
                exc = None
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        item.fn(lamina, tmp)
                except Exception as e:  # noqa: BLE001 - counting every kind
                    exc = e
                out = classify(exc, item.needle)
                if any(".tmp" in name for name in os.listdir(tmp)):
                    out = "leak"  # a failed save left its temp file behind
                detail = "" if exc is None else f"{type(exc).__name__}: {str(exc)[:160]}"
            else:
                out, detail = fuzz.try_mutant(item, tmp)
        detail = detail.replace("\n", " ").replace("\t", " ")
        print(f"@@\t{i}\t{ident}\t{out}\t{detail}", flush=True)


def run(folder: str, kind: str, show: bool) -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    n = len(_items(folder, kind))
    start = 0
    while start < n:
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", kind, "--start", str(start), "--cases", folder],
            capture_output=True,
            text=True,
        )
        last = start - 1
        for line in proc.stdout.splitlines():
            if not line.startswith("@@\t"):
                continue
            _, i, ident, out, detail = (line.split("\t", 4) + [""])[:5]
            last = int(i)
            counts[out] += 1
            if show and out not in ("clean", "loaded"):
                print(f"  {out:8s} {ident:50s} {detail}")
        if last < n - 1:  # the worker died on case last + 1
            counts["crash"] += 1
            if show:
                print(f"  crash    #{last + 1}: {proc.stderr.strip().splitlines()[-1:]}")
            last += 1
        start = last + 1
    return counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=os.path.join("tests", "reliability"))
    ap.add_argument("--show", action="store_true", help="print every case that is not clean")
    ap.add_argument("--worker", choices=("sweep", "fuzz"))
    ap.add_argument("--start", type=int, default=0)
    args = ap.parse_args()
    sys.path.insert(0, os.getcwd())
    folder = os.path.abspath(args.cases)
    if args.worker:
        worker(folder, args.worker, args.start)
        return
    sw = run(folder, "sweep", args.show)
    bad = sum(sw.values()) - sw["clean"]
    print(
        f"sweep: {sum(sw.values())} cases, {sw['clean']} clean errors, {bad} bad outcomes "
        f"({sw['silent']} silent, {sw['internal']} internal types, {sw['unnamed']} naming nothing, "
        f"{sw['leak']} leaked temp files, {sw['crash']} crashes)"
    )
    if os.path.exists(os.path.join(folder, "fuzz.py")):
        fz = run(folder, "fuzz", args.show)
        bad = sum(fz.values()) - fz["clean"] - fz["loaded"]
        rest = ", ".join(f"{k} {v}" for k, v in sorted(fz.items()) if k not in ("clean", "loaded")) or "none"
        print(f"fuzz: {sum(fz.values())} mutants, {fz['loaded']} load, {fz['clean']} clean errors, {bad} bad ({rest})")


if __name__ == "__main__":
    main()
