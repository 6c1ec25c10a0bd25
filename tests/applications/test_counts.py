"""Every constructor of keras.applications builds with Keras's counts, layer names and weights.

``KERAS_COUNTS`` was produced once by real Keras 3.15.1 (torch backend) with
``tests/fixtures/make_application_counts.py`` and the arguments of ``specs.SPECS``:
name -> (count_params(), trainable parameters, len(model.layers), digest of the layer names and
classes in order, digest of the weights' paths, shapes and trainability in order).
Lamina builds on the meta device: shapes and names only, nothing to initialize.
"""

from __future__ import annotations

import pytest
import torch

import lamina
from tests.applications.specs import SPECS, digest_layers, digest_weights

KERAS_COUNTS = {
    "ConvNeXtTiny": (28589128, 28589128, 135, "018ccf19e592dcad", "236cede0fd118f6f"),
    "ConvNeXtSmall": (50223688, 50223688, 261, "24c35375617ef96c", "a4a40e09d0f20b2a"),
    "ConvNeXtBase": (88591464, 88591464, 261, "e49c3bee07b95cab", "186414d8295a05b2"),
    "ConvNeXtLarge": (197767336, 197767336, 261, "2dc982c1684233bd", "66dd3e6c56c15263"),
    "ConvNeXtXLarge": (350196968, 350196968, 261, "dcf41b5b308cf84a", "ae15a703b9541326"),
    "DenseNet121": (8062504, 7978856, 429, "7e933a2425cac9e5", "da64a584f7fee1b8"),
    "DenseNet169": (14307880, 14149480, 597, "e2001af42d862c0f", "ef029b5c7c1283db"),
    "DenseNet201": (20242984, 20013928, 709, "d67dc72b9737ad0d", "5becf3b158210868"),
    "EfficientNetB0": (5330571, 5288548, 240, "4c98d795db44e613", "fd7469a8a77d7566"),
    "EfficientNetB1": (7856239, 7794184, 342, "7a3cf2c502198933", "b3c116940afa7110"),
    "EfficientNetB2": (9177569, 9109994, 342, "7a3cf2c502198933", "6ac328006e8bf0ae"),
    "EfficientNetB3": (12320535, 12233232, 387, "c70d3834775f84d7", "28a510907f82dc56"),
    "EfficientNetB4": (19466823, 19341616, 477, "6bb40b4a061dd75e", "e8694704c4f3823d"),
    "EfficientNetB5": (30562527, 30389784, 579, "a1368e59a74566da", "872a01a04a15587c"),
    "EfficientNetB6": (43265143, 43040704, 669, "fc43e9f20a82b19c", "18fce7a4d5cafafe"),
    "EfficientNetB7": (66658687, 66347960, 816, "909a9dd2b44b0572", "788809d4bfb157c0"),
    "EfficientNetV2B0": (7200312, 7139704, 273, "3b51961ab4a94f68", "dc615fb2a5135aed"),
    "EfficientNetV2B1": (8212124, 8141052, 337, "718e306798223046", "3eb13e2f2f35eeb6"),
    "EfficientNetV2B2": (10178374, 10096086, 352, "702d9d715986654d", "094d2aed90225122"),
    "EfficientNetV2B3": (14467622, 14358406, 412, "ae2dd61fad87bb94", "b9fe2ad8f280ad77"),
    "EfficientNetV2S": (21612360, 21458488, 516, "6cb0efe558cf011f", "a0ed73c92c8cd886"),
    "EfficientNetV2M": (54431388, 54139356, 743, "47585e0a007df5af", "b1fb75180e0824c0"),
    "EfficientNetV2L": (119027848, 118515272, 1031, "d35abc30e6bd88d0", "a58e1cb739aab778"),
    "InceptionResNetV2": (55873736, 55813192, 782, "3added07b35cdc1b", "1ceee946e13ac25d"),
    "InceptionV3": (23851784, 23817352, 313, "35555e705df43207", "9fe445680d24d42b"),
    "MobileNet": (4253864, 4231976, 91, "d3690479bb90d81c", "868d09a3e47ca8da"),
    "MobileNetV2": (3538984, 3504872, 156, "c842092936f1e3b9", "2bb7aa225acba937"),
    "MobileNetV3Small": (2554968, 2542856, 164, "e8c3f7d42f4862bf", "d2d0e81864835f46"),
    "MobileNetV3Large": (5507432, 5483032, 194, "ffb32e30d88b2273", "1ce2b679edaf5455"),
    "NASNetMobile": (5326716, 5289978, 771, "ea13fb87fe86afa3", "04eddd612f762978"),
    "NASNetLarge": (88949818, 88753150, 1041, "010ac9c4d8b73aea", "5200b4376353eb89"),
    "ResNet50": (25636712, 25583592, 177, "7fcd2f872c518990", "a73cca8ff79dde73"),
    "ResNet101": (44707176, 44601832, 347, "488392176ea48a75", "235cd3575756e7b4"),
    "ResNet152": (60419944, 60268520, 517, "2bb86e084b7d770a", "c7bb5880e35b8f2a"),
    "ResNet50V2": (25613800, 25568360, 192, "b3858f88cd2da471", "67f7788c90c8c594"),
    "ResNet101V2": (44675560, 44577896, 379, "517e5473fff33784", "5843a85d13297ffa"),
    "ResNet152V2": (60380648, 60236904, 566, "bc57a854f6c73c90", "06c7063f7c29fed5"),
    "VGG16": (37694248, 37694248, 23, "2ff995309b5e2839", "4defcc5dc1c040a9"),
    "VGG19": (43003944, 43003944, 26, "f46791378aa434de", "aadcc5a939e0e8ec"),
    "Xception": (22910480, 22855952, 134, "6334dc1bac651113", "435dadf43ab9e43a"),
}


def test_the_table_covers_every_keras_constructor():
    assert sorted(KERAS_COUNTS) == sorted(SPECS)
    assert sorted(n for n in lamina.applications.__all__ if n[0].isupper()) == sorted(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_counts_names_and_weights_equal_keras(name):
    with torch.device("meta"), lamina.backend.device_scope("meta"):
        model = getattr(lamina.applications, name)(weights=None, **SPECS[name])
    params, trainable, n_layers, layers_digest, weights_digest = KERAS_COUNTS[name]
    assert model.count_params() == params
    assert sum(torch.Size(w.shape).numel() for w in model.trainable_weights) == trainable
    assert len(model.layers) == n_layers
    assert digest_layers(model) == layers_digest
    assert digest_weights(model) == weights_digest
