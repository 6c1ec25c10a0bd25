"""What killed saves leave behind: a child saving a 16 MB model is SIGKILLed mid-save 5 times, and after each
kill a fresh process saves to the same target (as a user re-running the script); prints what is left.

    python tools/killed_save_leftovers.py /path/to/checkout    # the checkout whose lamina is measured
"""

import os
import random
import signal
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import sys, time, numpy as np, lamina
path = sys.argv[1]
model = lamina.Sequential([lamina.Input((1024,))] + [lamina.layers.Dense(1024) for _ in range(4)])
while True:
    model.save(path); print(1, flush=True)
"""
root = sys.argv[1]
env = {**os.environ, "PYTHONPATH": root}
folder = tempfile.mkdtemp()
path = os.path.join(folder, "m.keras")
random.seed(0)
for i in range(5):
    p = subprocess.Popen([sys.executable, "-c", CHILD, path], stdout=subprocess.PIPE, env=env, text=True, cwd=root)
    p.stdout.readline()
    t = time.time()
    p.stdout.readline()
    d = time.time() - t
    time.sleep(random.uniform(0.1, 0.9) * d)
    p.send_signal(signal.SIGKILL)
    p.wait()
    p.stdout.close()
    # the next save to the same target, by a fresh process (the user re-running the script)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, lamina; "
            "m = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)]); m.save(sys.argv[1])",
            path,
        ],
        env=env,
        cwd=root,
        check=True,
    )
names = sorted(os.listdir(folder))
size = sum(os.path.getsize(os.path.join(folder, n)) for n in names if n != "m.keras")
print(
    f"{root}: after 5 kills (+ a save after each): {len(names) - 1} leftover files, "
    f"{size / 1e6:.1f} MB besides m.keras: {names}"
)
