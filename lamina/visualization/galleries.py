"""Image galleries with matplotlib: plain, with bounding boxes, with segmentation masks (Keras's layout)."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from lamina import ops
from lamina.backend import config
from lamina.backend.atomic import atomic_write
from lamina.visualization.draw import _batched_images, draw_bounding_boxes, draw_segmentation_masks


def _pyplot(function: str) -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            f"The `{function}` function requires the `matplotlib` package. "
            "Please install it with `pip install matplotlib`."
        ) from e
    return plt


def _save_or_show(plt: Any, fig: Any, path: Any, show: bool, transparent: bool, dpi: int) -> None:
    if path is not None:
        path = os.fspath(path)
        fmt = os.path.splitext(path)[1][1:].lower() or "png"
        try:
            with atomic_write(path) as tmp:  # a failed save never leaves half an image behind
                fig.savefig(tmp, format=fmt, pad_inches=0, bbox_inches="tight", transparent=transparent, dpi=dpi)
        finally:
            plt.close(fig)
    elif show:
        plt.show()
        plt.close(fig)


def plot_image_gallery(
    images: Any,
    y_true: Any = None,
    y_pred: Any = None,
    label_map: dict[Any, str] | None = None,
    rows: int | None = None,
    cols: int | None = None,
    value_range: tuple[float, float] = (0, 255),
    scale: float = 2,
    path: str | os.PathLike | None = None,
    show: bool | None = None,
    transparent: bool = True,
    dpi: int = 60,
    legend_handles: list[Any] | None = None,
    data_format: str | None = None,
) -> Any:
    """Shows (or saves to ``path``) a grid of images, titled with labels and predictions.

    Keras's arguments, layout and checks; needs matplotlib. Saving is atomic.

    Args:
        images: ``(batch, height, width, channels)`` images (or channels-first).
        y_true: class indices shown as "Label: ..." through ``label_map``.
        y_pred: class indices shown as "Pred: ..." through ``label_map``.
        label_map: class index -> name; required with ``y_true``/``y_pred``.
        rows: grid rows (default: ``ceil(sqrt(batch))``).
        cols: grid columns (default: ``batch // rows``).
        value_range: the images' value range, mapped to ``[0, 255]`` for display.
        scale: inches per image.
        path: save the figure there instead of showing it.
        show: show it (default: when there is no ``path``).
        transparent: transparent background when saving.
        dpi: resolution when saving.
        legend_handles: matplotlib handles for a figure legend.
        data_format: ``"channels_last"`` or ``"channels_first"``; None: the global setting.

    Returns:
        None, as Keras.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from lamina import visualization
        >>> path = os.path.join(tempfile.mkdtemp(), "gallery.png")
        >>> visualization.plot_image_gallery(np.zeros((4, 8, 8, 3)), path=path)
        >>> os.path.getsize(path) > 0
        True
    """
    plt = _pyplot("plot_image_gallery")
    if path is not None and show:
        raise ValueError("plot_gallery() expects either `path` to be set, or `show` to be true.")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError("If `y_true` or `y_pred` are provided, a `label_map` must also be provided.")
    show = show if show is not None else path is None
    data_format = data_format or config.image_data_format()
    array = ops.convert_to_numpy(images)
    if array.ndim != 4:
        raise ValueError(
            "`plot_images_gallery()` requires you to batch your `np.array` samples together. "
            f"Received: images.shape={tuple(array.shape)}"
        )
    batch_size = array.shape[0]
    rows = rows or int(math.ceil(math.sqrt(batch_size)))
    cols = cols or int(math.ceil(batch_size // rows))
    if rows < 1 or cols < 1 or rows * cols > batch_size:
        raise ValueError(
            f"A {rows}x{cols} gallery needs {rows * cols} images and must not be empty. "
            f"Received: {batch_size} images (rows={rows}, cols={cols})"
        )
    array = array[: rows * cols]
    if data_format == "channels_first":
        array = array.transpose(0, 2, 3, 1)
    low, high = value_range
    array = (array.astype("float64") - low) / (high - low) * 255.0

    fig, axes = plt.subplots(
        nrows=rows,
        ncols=cols,
        figsize=(cols * scale, rows * scale),
        frameon=False,
        layout="tight",
        squeeze=False,
        sharex="row",
        sharey="col",
    )
    fig.subplots_adjust(wspace=0, hspace=0)
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center")
    y_true = None if y_true is None else ops.convert_to_numpy(y_true)
    y_pred = None if y_pred is None else ops.convert_to_numpy(y_pred)
    for row in range(rows):
        for col in range(cols):
            index = row * cols + col
            axis = axes[row, col]
            axis.imshow(array[index].astype("uint8"))
            axis.margins(x=0, y=0)
            axis.axis("off")
            title = []
            if y_true is not None and index < len(y_true):
                title.append(f"Label: {label_map.get(_key(y_true[index]), 'Unknown')}")
            if y_pred is not None and index < len(y_pred):
                title.append(f"Pred: {label_map.get(_key(y_pred[index]), 'Unknown')}")
            if title:
                axis.set_title("  ".join(title), fontsize=8)
    _save_or_show(plt, fig, path, show, transparent, dpi)
    return None


def _channels_last(array: np.ndarray, data_format: str) -> np.ndarray:
    return array.transpose(0, 2, 3, 1) if data_format == "channels_first" else array


def _key(value: Any) -> Any:
    """A NumPy scalar label as the Python number a ``label_map`` is keyed by."""
    return value.item() if isinstance(value, np.generic) else value


def plot_bounding_box_gallery(
    images: Any,
    bounding_box_format: str,
    y_true: dict[str, Any] | None = None,
    y_pred: dict[str, Any] | None = None,
    value_range: tuple[float, float] = (0, 255),
    true_color: tuple[int, int, int] = (0, 188, 212),
    pred_color: tuple[int, int, int] = (255, 235, 59),
    line_thickness: int = 2,
    font_scale: float = 1.0,
    text_thickness: int | None = None,
    class_mapping: dict[int, str] | None = None,
    ground_truth_mapping: dict[int, str] | None = None,
    prediction_mapping: dict[int, str] | None = None,
    legend: bool = False,
    legend_handles: list[Any] | None = None,
    rows: int | None = None,
    cols: int | None = None,
    data_format: str | None = None,
    **kwargs: Any,
) -> Any:
    """A gallery of images with ground-truth and predicted boxes drawn (see ``draw_bounding_boxes``).

    Example:
        >>> import os, tempfile, numpy as np
        >>> from lamina import visualization
        >>> boxes = {"boxes": np.array([[[1, 1, 6, 6]]] * 4), "labels": np.zeros((4, 1), "int32")}
        >>> path = os.path.join(tempfile.mkdtemp(), "boxes.png")
        >>> visualization.plot_bounding_box_gallery(np.zeros((4, 8, 8, 3)), "xyxy", y_true=boxes, path=path)
        >>> os.path.exists(path)
        True
    """
    plt = _pyplot("plot_bounding_box_gallery")
    prediction_mapping = prediction_mapping or class_mapping
    ground_truth_mapping = ground_truth_mapping or class_mapping
    data_format = data_format or config.image_data_format()
    array = _channels_last(_batched_images(images), data_format)
    draw = dict(
        bounding_box_format=bounding_box_format,
        line_thickness=line_thickness,
        text_thickness=text_thickness,
        font_scale=font_scale,
        data_format="channels_last",
    )
    if y_true is not None:
        array = draw_bounding_boxes(array, y_true, color=true_color, class_mapping=ground_truth_mapping, **draw)
    if y_pred is not None:
        array = draw_bounding_boxes(array, y_pred, color=pred_color, class_mapping=prediction_mapping, **draw)
    if legend:
        if legend_handles:
            raise ValueError(
                "Only pass `legend` OR `legend_handles` to `keras.visualization.plot_bounding_box_gallery()`."
            )
        from matplotlib import patches

        legend_handles = [
            patches.Patch(color=np.array(true_color) / 255.0, label="Ground Truth"),
            patches.Patch(color=np.array(pred_color) / 255.0, label="Prediction"),
        ]
    del plt
    return plot_image_gallery(
        array,
        value_range=value_range,
        legend_handles=legend_handles,
        rows=rows,
        cols=cols,
        data_format="channels_last",
        **kwargs,
    )


def plot_segmentation_mask_gallery(
    images: Any,
    num_classes: int,
    value_range: tuple[float, float] = (0, 255),
    y_true: Any = None,
    y_pred: Any = None,
    color_mapping: dict[int, Any] | None = None,
    blend: bool = True,
    alpha: float = 0.8,
    ignore_index: int = -1,
    data_format: str | None = None,
    **kwargs: Any,
) -> Any:
    """One row per image: the image, then its true and predicted masks drawn on it.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from lamina import visualization
        >>> masks = np.ones((2, 8, 8, 1), "int32")
        >>> path = os.path.join(tempfile.mkdtemp(), "masks.png")
        >>> visualization.plot_segmentation_mask_gallery(np.zeros((2, 8, 8, 3)), 2, y_true=masks, path=path)
        >>> os.path.exists(path)
        True
    """
    data_format = data_format or config.image_data_format()
    array = _channels_last(_batched_images(images), data_format)
    batch_size = array.shape[0]
    drawn = []
    for masks in (y_true, y_pred):
        if masks is None:
            continue
        masks = _channels_last(ops.convert_to_numpy(masks), data_format)
        drawn.append(
            draw_segmentation_masks(
                array,
                masks.astype("int32"),
                num_classes=num_classes,
                color_mapping=color_mapping,
                alpha=alpha,
                blend=blend,
                ignore_index=ignore_index,
                data_format="channels_last",
            ).astype("float32")
        )
    rows_of_images = []
    for i in range(batch_size):
        rows_of_images.append(array[i].astype("float32"))
        rows_of_images.extend(d[i] for d in drawn)
    return plot_image_gallery(
        np.stack(rows_of_images, axis=0),
        value_range=value_range,
        rows=batch_size,
        cols=1 + len(drawn),
        data_format="channels_last",
        **kwargs,
    )
