"""Crops the faces a detector found and saves them for training (OpenCV + PIL)."""

import cv2
from PIL import Image


def save_face_crops(image_path, boxes, out_pattern):
    img = cv2.imread(image_path)
    if img is None:
        raise FileNotFoundError(image_path)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        face = cv2.resize(img[y0:y1, x0:x1], (160, 160))
        Image.fromarray(face).save(out_pattern % i)
