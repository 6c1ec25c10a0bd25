"""What `import lamina` loads: the compiler and the large optional subpackages wait until they are used."""

import subprocess
import sys

import pytest

_LAZY = ["torch._dynamo", "lamina.applications", "lamina.datasets", "lamina.visualization"]


def _loaded_after(code: str) -> dict[str, bool]:
    probe = f"import sys\n{code}\nprint([name in sys.modules for name in {_LAZY!r}])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    flags = eval(out.strip().splitlines()[-1])  # a list of booleans printed by the probe
    return dict(zip(_LAZY, flags, strict=True))


def test_import_lamina_leaves_the_compiler_and_large_subpackages_unloaded():
    assert _loaded_after("import lamina") == dict.fromkeys(_LAZY, False)


@pytest.mark.parametrize(
    "code, module",
    [
        ("import lamina; lamina.applications.MobileNetV2", "lamina.applications"),
        ("from lamina import datasets; datasets.mnist", "lamina.datasets"),
        ("import lamina.visualization", "lamina.visualization"),
    ],
)
def test_lazy_subpackages_load_on_first_use(code, module):
    assert _loaded_after(code)[module] is True


def test_dir_lists_the_lazy_subpackages():
    import lamina

    assert {"applications", "datasets", "visualization", "wrappers"} <= set(dir(lamina))


def test_an_unknown_attribute_names_itself():
    import lamina

    with pytest.raises(AttributeError, match="no attribute 'aplications'"):
        lamina.aplications  # noqa: B018
