"""DL405 missing-zero-grad: backward() and step() in a loop that never zeroes the gradients."""

from lintutil import lines, messages


def test_first_training_loop_without_zero_grad():
    source = '''
        import torch
        import torch.nn as nn

        model = nn.Linear(784, 10)
        criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        for epoch in range(5):
            for images, labels in train_loader:
                loss = criterion(model(images.view(-1, 784)), labels)
                loss.backward()
                optimizer.step()
    '''
    assert lines(source, "DL405") == [12]
    (message,) = messages(source, "DL405")
    assert "`optimizer.zero_grad()`" in message and "sum of the gradients" in message


def test_zero_grad_once_before_the_loop_does_not_count():
    source = '''
        import torch

        def fit(model, loader, epochs):
            opt = torch.optim.Adam(model.parameters())
            opt.zero_grad()
            for epoch in range(epochs):
                for x, y in loader:
                    loss = ((model(x) - y) ** 2).mean()
                    loss.backward()
                    opt.step()
    '''
    assert lines(source, "DL405") == [11]


def test_a_gan_with_one_optimizer_left_unzeroed():
    source = '''
        import torch

        for real in loader:
            optimizer_D.zero_grad()
            d_loss = bce(D(real), ones) + bce(D(G(z).detach()), zeros)
            d_loss.backward()
            optimizer_D.step()

            g_loss = bce(D(G(z)), ones)
            g_loss.backward()
            optimizer_G.step()
    '''
    assert lines(source, "DL405") == [12]
    assert "`optimizer_G.zero_grad()`" in messages(source, "DL405")[0]


def test_each_gan_optimizer_zeroed_or_the_models_is_quiet():
    sources = [
        """
        import torch
        for real in loader:
            self.opt_d.zero_grad()
            loss_d(real).backward()
            self.opt_d.step()
            opt_g.zero_grad()
            loss_g().backward()
            opt_g.step()
        """,
        """
        import torch
        for real in loader:
            netD.zero_grad()
            loss_d(real).backward()
            optimizerD.step()
            netG.zero_grad()
            loss_g().backward()
            optimizerG.step()
        """,
    ]
    for source in sources:
        assert lines(source, "DL405") == [], source


def test_amp_accelerate_and_a_named_optimizer():
    source = '''
        import torch
        from accelerate import Accelerator

        accelerator = Accelerator()
        adam = torch.optim.AdamW(model.parameters(), lr=3e-4)
        for batch in loader:
            with torch.autocast("cuda"):
                loss = model(**batch).loss
            scaler.scale(loss).backward()
            scaler.step(adam)
            scaler.update()

        for batch in loader:
            accelerator.backward(model(**batch).loss)
            adam.step()
    '''
    assert lines(source, "DL405") == [11, 16]


def test_must_not_fire():
    sources = [
        # Zeroed each step, in every form.
        '''
        import torch
        for x, y in loader:
            optimizer.zero_grad(set_to_none=True)
            criterion(model(x), y).backward()
            optimizer.step()
        ''',
        '''
        import torch
        for x, y in loader:
            criterion(model(x), y).backward()
            optimizer.step()
            model.zero_grad()
        ''',
        '''
        import torch
        for x, y in loader:
            for p in model.parameters():
                p.grad = None
            criterion(model(x), y).backward()
            optimizer.step()
        ''',
        '''
        import torch
        for x, y in loader:
            criterion(model(x), y).backward()
            optimizer.step()
            for p in model.parameters():
                p.grad.data.zero_()
        ''',
        # Gradient accumulation that zeroes every k steps.
        '''
        import torch
        for i, (x, y) in enumerate(loader):
            (criterion(model(x), y) / k).backward()
            if (i + 1) % k == 0:
                optimizer.step()
                optimizer.zero_grad()
        ''',
        # A helper of the module zeroes; the optimizer handed to another function.
        '''
        import torch

        def reset(opt):
            opt.zero_grad()

        for x, y in loader:
            criterion(model(x), y).backward()
            optimizer.step()
            reset(optimizer)
        ''',
        '''
        import torch
        from trainer_utils import clip_and_reset
        for x, y in loader:
            criterion(model(x), y).backward()
            optimizer.step()
            clip_and_reset(model, optimizer)
        ''',
        # LBFGS's closure, a scheduler's step, a DeepSpeed engine.
        '''
        import torch
        for x, y in loader:
            def closure():
                optimizer.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                return loss
            optimizer.step(closure)
        ''',
        '''
        import torch
        for epoch in range(10):
            train_one_epoch(model, loader, optimizer)
            loss.backward()
            scheduler.step()
        ''',
        '''
        import deepspeed
        import torch
        for batch in loader:
            loss = model_engine(batch)
            model_engine.backward(loss)
            model_engine.step()
        ''',
        # The backward is outside the loop over optimizers.
        '''
        import torch
        loss.backward()
        for opt in (opt_a, opt_b):
            opt.step()
        ''',
        # Not PyTorch: MXNet Gluon's trainer overwrites the gradients.
        '''
        from mxnet import autograd, gluon
        for x, y in loader:
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            optimizer.step()
        ''',
    ]
    for source in sources:
        assert lines(source, "DL405") == [], source
