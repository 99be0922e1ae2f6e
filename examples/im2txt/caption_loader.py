"""Loads Flickr8k captions and images for a PyTorch captioning model."""

import io
import json
import os

import torch
from PIL import Image
from torch.utils.data import Dataset


def load_vocab(vocab_file):
    with open(vocab_file) as f:
        words = [line.split()[0] for line in f]
    return {word: index for index, word in enumerate(words)}


def load_captions(token_file, split_file):
    with open(split_file) as f:
        wanted = set(line.strip() for line in f)
    captions = {}
    with open(token_file, encoding="utf-8") as f:
        for line in f:
            name, caption = line.rstrip("\n").split("\t")
            name = name.split("#")[0]
            if name in wanted:
                captions.setdefault(name, []).append(caption)
    return captions


class FlickrDataset(Dataset):
    def __init__(self, image_dir, captions, vocab, transform=None):
        self.image_dir = image_dir
        self.items = [(name, c) for name, caps in sorted(captions.items()) for c in caps]
        self.vocab = vocab
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def _load_image(self, name):
        img_path = os.path.join(self.image_dir, name)
        with open(img_path) as f:
            data = f.read()
        return Image.open(io.BytesIO(data)).convert("RGB")

    def __getitem__(self, index):
        name, caption = self.items[index]
        image = self._load_image(name)
        if self.transform is not None:
            image = self.transform(image)
        tokens = [self.vocab.get(w, self.vocab["<unk>"]) for w in caption.lower().split()]
        return image, torch.tensor(tokens)


def save_split(path, names):
    with open(path, "w") as f:
        json.dump(sorted(names), f)
