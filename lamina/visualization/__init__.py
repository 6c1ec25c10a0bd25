"""``keras.visualization``: draw boxes and masks on images, and plot image galleries.

Keras draws boxes with OpenCV; Lamina needs no OpenCV: rectangles are drawn with NumPy and their
labels with Pillow (the ``image`` extra). The galleries need matplotlib, as in Keras.
"""

from lamina.visualization.draw import draw_bounding_boxes, draw_segmentation_masks
from lamina.visualization.galleries import (
    plot_bounding_box_gallery,
    plot_image_gallery,
    plot_segmentation_mask_gallery,
)

__all__ = [
    "draw_bounding_boxes",
    "draw_segmentation_masks",
    "plot_bounding_box_gallery",
    "plot_image_gallery",
    "plot_segmentation_mask_gallery",
]
