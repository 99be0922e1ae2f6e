"""The models of the ckpt walk-through: the one that was trained, and the ones a user builds later."""

from torch import nn


class Net(nn.Module):
    def __init__(self, width=8, head="fc", classes=10, middle=False, in_size=None):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = nn.Sequential(nn.Conv2d(width, width, 3), nn.BatchNorm2d(width))
        if middle:
            self.extra = nn.Sequential(nn.Conv2d(width, width, 3), nn.BatchNorm2d(width))
        self.layer2 = nn.Sequential(nn.Conv2d(width, 2 * width, 3), nn.BatchNorm2d(2 * width))
        self.pool = nn.AdaptiveAvgPool2d(1)
        setattr(self, head, nn.Linear(in_size or 2 * width, classes))


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 4)
        self.decoder = nn.Linear(4, 8)


def build():
    return Net()


def renamed_head():
    """The head is now called `classifier`: same shapes, another name."""
    return Net(head="classifier")


def middle_layer():
    return Net(middle=True)


def new_head():
    return Net(classes=3)


def wider():
    return Net(width=16)


def bigger_input():
    """The head takes 64 inputs where the trained one took 16: the input size changed."""
    return Net(in_size=64)
