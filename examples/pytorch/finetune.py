"""Fine-tunes a pretrained model on a multi-GPU server (PyTorch)."""

import argparse

import torch
import torch.nn as nn


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_recover_path", required=True)
    parser.add_argument("--resume", default="")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-4)
    return parser.parse_args()


def train(args, model, loader, device):
    model_recover = torch.load(args.model_recover_path, weights_only=True)
    model.load_state_dict(model_recover, strict=False)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    start_epoch = 0
    if args.resume:
        checkpoint = torch.load(args.resume, map_location="cpu", weights_only=False)
        optimizer.load_state_dict(checkpoint["optimizer"])
        start_epoch = checkpoint["epoch"]
    criterion = nn.CrossEntropyLoss()
    for epoch in range(start_epoch, args.epochs):
        running_loss = 0.0
        for step, (inputs, labels) in enumerate(loader):
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
            running_loss += loss
        print("epoch %d: loss %.4f" % (epoch, running_loss / len(loader)))
