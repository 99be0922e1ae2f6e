"""An auxiliary-classifier GAN on MNIST (PyTorch): the discriminator also predicts the digit."""

import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, n_classes=10, latent_dim=100):
        super().__init__()
        self.label_emb = nn.Embedding(n_classes, latent_dim)
        self.net = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())

    def forward(self, z, labels):
        return self.net(z * self.label_emb(labels))


class Discriminator(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2))
        self.adv_layer = nn.Sequential(nn.Linear(256, 1), nn.Sigmoid())
        self.aux_layer = nn.Sequential(nn.Linear(256, n_classes), nn.Softmax(dim=1))

    def forward(self, img):
        h = self.features(img.view(img.size(0), -1))
        return self.adv_layer(h), self.aux_layer(h)


adversarial_loss = nn.BCELoss()
auxiliary_loss = nn.CrossEntropyLoss()
generator = Generator()
discriminator = Discriminator()
optimizer_G = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))


def sample_digits(n_rows=10):
    generator.eval()
    rows = []
    for digit in range(10):
        z = torch.randn(n_rows, 100)
        rows.append(generator(z, torch.full((n_rows,), digit)))
    generator.train()
    return torch.cat(rows)


def train(loader, epochs):
    for epoch in range(epochs):
        for imgs, labels in loader:
            valid = torch.ones(imgs.size(0), 1)
            fake = torch.zeros(imgs.size(0), 1)
            z = torch.randn(imgs.size(0), 100)
            gen_labels = torch.randint(0, 10, (imgs.size(0),))
            gen_imgs = generator(z, gen_labels)

            validity, pred_label = discriminator(gen_imgs)
            g_loss = 0.5 * (adversarial_loss(validity, valid) + auxiliary_loss(pred_label, gen_labels))
            g_loss.backward()
            optimizer_G.step()

            optimizer_D.zero_grad()
            real_pred, real_aux = discriminator(imgs)
            fake_pred, fake_aux = discriminator(gen_imgs.detach())
            d_loss = 0.5 * (adversarial_loss(real_pred, valid) + adversarial_loss(fake_pred, fake))
            d_loss = d_loss + auxiliary_loss(real_aux, labels)
            d_loss.backward()
            optimizer_D.step()
        print("epoch %d: D loss %.4f, G loss %.4f" % (epoch, d_loss.item(), g_loss.item()))
        samples = sample_digits()
        torch.save(samples, "samples_%d.pt" % epoch)
