"""DL406 eval-without-no-grad: evaluation loops that still record autograd graphs."""

from lintutil import lines, messages


def test_validate_function_that_trusts_eval_to_turn_gradients_off():
    source = '''
        import torch

        def validate(model, valid_dl, loss_fn):
            losses = 0
            model.eval()  # turn off gradients
            for src, tgt in valid_dl:
                logits = model(src.cuda())
                losses += loss_fn(logits, tgt.cuda()).item()
            return losses / len(valid_dl)
    '''
    assert lines(source, "DL406") == [8]
    (message,) = messages(source, "DL406")
    assert "`model.eval()`" in message and "with torch.no_grad():" in message


def test_sampling_loop_that_keeps_every_output():
    source = '''
        import torch

        generator.eval()
        samples = []
        for label in range(n_classes):
            z = torch.randn(16, latent_dim)
            samples.append(generator(z, label))
        grid = torch.cat(samples)
        generator.train()
    '''
    assert lines(source, "DL406") == [8]


def test_validation_inside_the_training_loop():
    source = '''
        import torch

        for epoch in range(epochs):
            model.train()
            for x, y in train_loader:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()
            model.eval()
            for x, y in val_loader:
                val_loss += criterion(model(x), y).item()
    '''
    assert lines(source, "DL406") == [12]


def test_guards_in_every_form_are_quiet():
    sources = [
        '''
        import torch
        model.eval()
        for x, y in loader:
            with torch.no_grad():
                out = model(x)
        ''',
        '''
        import torch
        model.eval()
        with torch.inference_mode():
            for x, y in loader:
                out = model(x)
        ''',
        '''
        import torch
        for phase in ("train", "val"):
            if phase == "val":
                model.eval()
            for x, y in loaders[phase]:
                with torch.set_grad_enabled(phase == "train"):
                    out = model(x)
        ''',
        '''
        import torch
        @torch.inference_mode()
        def predict(model, loader):
            model.eval()
            return [model(x) for x in loader] + [model(x) for x in loader for _ in range(1)]
        ''',
        '''
        import torch
        from utils.torch_utils import smart_inference_mode

        @smart_inference_mode()
        def run(model, dataloader):
            model.eval()
            for im, targets in dataloader:
                preds = model(im)
        ''',
        # A caller in the module runs it under no_grad, or through another function that does.
        '''
        import torch

        def evaluate(net, loader):
            net.eval()
            for x, y in loader:
                acc = (net(x).argmax(1) == y).float().mean()

        def report(net, loader):
            evaluate(net, loader)

        with torch.no_grad():
            report(net, test_loader)
        ''',
        # Lightning runs these under no_grad.
        '''
        import torch
        import pytorch_lightning as pl
        class Lit(pl.LightningModule):
            def validation_step(self, batch, batch_idx):
                self.encoder.eval()
                for crop in batch:
                    self.encoder(crop)
        ''',
        # The loop wants gradients: adversarial examples, test-time training.
        '''
        import torch
        model.eval()
        for x, y in loader:
            x.requires_grad_(True)
            loss = criterion(model(x), y)
            grad, = torch.autograd.grad(loss, x)
        ''',
        '''
        import torch
        model.eval()
        for x, y in loader:
            criterion(model(x), y).backward()
            optimizer.step()
        ''',
        # Back in training mode before the loop; frozen parameters.
        '''
        import torch
        model.eval()
        model.train()
        for x, y in loader:
            out = model(x)
        ''',
        '''
        import torch
        for p in model.parameters():
            p.requires_grad = False
        model.eval()
        for x in loader:
            feats = model(x)
        ''',
        # Not PyTorch: a TF1 tensor's eval().
        '''
        import tensorflow as tf
        accuracy.eval()
        for batch in batches:
            accuracy(batch)
        ''',
    ]
    for source in sources:
        assert lines(source, "DL406") == [], source


def test_eval_in_one_branch_only_is_not_assumed():
    source = '''
        import torch
        if args.evaluate:
            model.eval()
        for x, y in loader:
            out = model(x)
    '''
    assert lines(source, "DL406") == []
