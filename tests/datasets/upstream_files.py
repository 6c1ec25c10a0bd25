"""Tiny dataset files in the exact upstream formats (npz, idx.gz, pickled CIFAR batches in tar.gz)."""

import gzip
import io
import json
import pickle
import tarfile

import numpy as np

RNG = np.random.RandomState(0)


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def mnist() -> bytes:
    return npz(
        x_train=RNG.randint(0, 256, (7, 28, 28)).astype("uint8"),
        y_train=RNG.randint(0, 10, 7).astype("uint8"),
        x_test=RNG.randint(0, 256, (3, 28, 28)).astype("uint8"),
        y_test=RNG.randint(0, 10, 3).astype("uint8"),
    )


def _idx(data: np.ndarray, magic: int) -> bytes:
    header = np.array([magic, *data.shape], ">i4").tobytes()
    return gzip.compress(header + data.astype("uint8").tobytes())


def fashion_mnist() -> dict[str, bytes]:
    return {
        "train-labels-idx1-ubyte.gz": _idx(RNG.randint(0, 10, 6), 2049),
        "train-images-idx3-ubyte.gz": _idx(RNG.randint(0, 256, (6, 28, 28)), 2051),
        "t10k-labels-idx1-ubyte.gz": _idx(RNG.randint(0, 10, 2), 2049),
        "t10k-images-idx3-ubyte.gz": _idx(RNG.randint(0, 256, (2, 28, 28)), 2051),
    }


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class _Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` opcodes (BINSTRING), as the CIFAR files (pickled by Python 2) hold them."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + len(obj).to_bytes(4, "little") + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_py2_str


def _py2_pickle(obj) -> bytes:
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def _batch(n: int, label_keys: dict[str, int]) -> bytes:
    d = {b"batch_label": b"tiny batch", b"data": RNG.randint(0, 256, (n, 3072)).astype("uint8")}
    for key, classes in label_keys.items():
        d[key.encode()] = [int(v) for v in RNG.randint(0, classes, n)]
    d[b"filenames"] = [b"img_%d.png" % i for i in range(n)]
    return _py2_pickle(d)


def cifar10() -> bytes:
    # one image per training batch: Keras writes each batch into 10,000 rows, so one row broadcasts
    members = {f"cifar-10-batches-py/data_batch_{i}": _batch(1, {"labels": 10}) for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = _batch(4, {"labels": 10})
    members["cifar-10-batches-py/batches.meta"] = _py2_pickle({b"label_names": [b"airplane"]})
    return _tar_gz(members)


def cifar100() -> bytes:
    keys = {"fine_labels": 100, "coarse_labels": 20}
    return _tar_gz({"cifar-100-python/train": _batch(5, keys), "cifar-100-python/test": _batch(3, keys)})


def _sequences(n: int, vocab: int) -> np.ndarray:
    seqs = [list(map(int, RNG.randint(1, vocab, RNG.randint(2, 12)))) for _ in range(n)]
    out = np.empty(n, dtype=object)
    out[:] = seqs
    return out


def imdb() -> bytes:
    return npz(
        x_train=_sequences(9, 40),
        y_train=RNG.randint(0, 2, 9),
        x_test=_sequences(6, 40),
        y_test=RNG.randint(0, 2, 6),
    )


def reuters() -> bytes:
    return npz(x=_sequences(15, 50), y=RNG.randint(0, 46, 15))


def word_index() -> bytes:
    return json.dumps({"the": 1, "and": 2, "a": 3, "film": 19}).encode()


def housing(features: int, n: int) -> bytes:
    return npz(x=RNG.random_sample((n, features)) * 100, y=RNG.random_sample(n) * 50)


def malicious_npz(marker_path: str) -> bytes:
    """An npz whose object array's pickle would run ``open(marker_path, 'w')`` if unpickled freely."""

    class Payload:
        def __reduce__(self):
            return (open, (marker_path, "w"))

    arr = np.empty(1, dtype=object)
    arr[0] = Payload()
    return npz(x_train=arr, y_train=np.zeros(1), x_test=arr, y_test=np.zeros(1))
