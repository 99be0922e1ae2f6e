"""Reads AlexNet fine-tuning batches with OpenCV: scale, subtract the mean, flip."""

import random

import cv2
import numpy as np

SCALE_SIZE = 227
MEAN = np.array([104.0, 117.0, 124.0])


class ImageDataGenerator:
    def __init__(self, list_file, shuffle=True):
        with open(list_file) as f:
            pairs = [line.split() for line in f if line.strip()]
        self.paths = [path for path, _ in pairs]
        self.labels = [int(label) for _, label in pairs]
        self.shuffle = shuffle
        self.pointer = 0

    def next_batch(self, batch_size):
        paths = self.paths[self.pointer:self.pointer + batch_size]
        labels = self.labels[self.pointer:self.pointer + batch_size]
        self.pointer += batch_size
        images = np.ndarray([batch_size, SCALE_SIZE, SCALE_SIZE, 3])
        for i, path in enumerate(paths):
            img = cv2.imread(path)
            print("read %s: %s" % (path, img.shape))
            if self.shuffle and random.random() < 0.5:
                img = cv2.flip(img, 1)
            img = np.resize(img, (SCALE_SIZE, SCALE_SIZE, 3))
            images[i] = img.astype(np.float32) - MEAN
        one_hot = np.zeros((batch_size, 1000))
        one_hot[np.arange(batch_size), labels] = 1
        return images, one_hot
