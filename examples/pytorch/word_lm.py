"""Trains a small word-level language model and reloads the best one (PyTorch, CPU or GPU)."""

import argparse

import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--save", default="model.pt")
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class LSTMModel(nn.Module):
    def __init__(self, ntokens, emsize=200, nhid=200):
        super().__init__()
        self.encoder = nn.Embedding(ntokens, emsize)
        self.rnn = nn.LSTM(emsize, nhid)
        self.decoder = nn.Linear(nhid, ntokens)

    def forward(self, tokens):
        output, _ = self.rnn(self.encoder(tokens))
        return self.decoder(output)


def train(model, batches, ntokens):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=20)
    for inputs, targets in batches:
        optimizer.zero_grad()
        loss = criterion(model(inputs.to(device)).view(-1, ntokens), targets.to(device).view(-1))
        loss.backward()
        optimizer.step()


ntokens = 10000
model = LSTMModel(ntokens).cuda()
for epoch in range(args.epochs):
    train(model, [], ntokens)
    with open(args.save, "wb") as f:
        torch.save(model, f)

with open(args.save, "rb") as f:
    model = torch.load(f, map_location=device)
