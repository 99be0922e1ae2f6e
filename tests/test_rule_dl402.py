"""DL402 loss-tensor-accumulation: training loops that keep every step's graph, and ones that do not."""

from lintutil import lines, lint, messages


def test_cifar_tutorial_without_item():
    source = '''
        import torch

        def train(net, trainloader, criterion, optimizer, epochs=2):
            for epoch in range(epochs):
                running_loss = 0.0
                for i, (inputs, labels) in enumerate(trainloader):
                    optimizer.zero_grad()
                    outputs = net(inputs)
                    loss = criterion(outputs, labels)
                    loss.backward()
                    optimizer.step()
                    running_loss += loss
                    if i % 2000 == 1999:
                        print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2000:.3f}")
                        running_loss = 0.0
    '''
    assert lint(source, "DL402") == [(13, 13, "DL402")]
    (message,) = messages(source, "DL402")
    assert "running_loss += loss" in message and "loss.item()" in message and "out of memory" in message


def test_the_item_fix_is_clean():
    source = '''
        def train(net, loader, criterion, optimizer):
            running_loss = 0.0
            for inputs, labels in loader:
                loss = criterion(net(inputs), labels)
                loss.backward()
                optimizer.step()
                running_loss += loss.item()
    '''
    assert lint(source, "DL402") == []


def test_every_accumulation_form():
    accumulations = [
        "total += loss",
        "total = total + loss",
        "total = loss + total",
        "self.epoch_loss += loss",
        "running += loss * x.size(0)",
        "history.append(loss)",
        "stats['loss'].append(loss)",
        "losses.extend([loss])",
    ]
    for accumulation in accumulations:
        source = (
            "for x, y in loader:\n    optimizer.zero_grad()\n    loss = criterion(model(x), y)\n"
            f"    loss.backward()\n    optimizer.step()\n    {accumulation}\n"
        )
        assert lines(source, "DL402") == [6], accumulation


def test_every_backward_form():
    backwards = [
        "loss.backward()",
        "scaler.scale(loss).backward()",
        "(loss / accumulation_steps).backward()",
        "loss.backward(retain_graph=True)",
        "torch.autograd.backward(loss)",
    ]
    for backward in backwards:
        source = f"import torch\nwhile step < n:\n    loss = model(next(it))\n    {backward}\n    log.append(loss)\n"
        assert lines(source, "DL402") == [5], backward


def test_gan_losses():
    source = '''
        for real in loader:
            d_loss = d_criterion(D(real), D(G(z)))
            d_loss.backward()
            d_opt.step()
            g_loss = g_criterion(D(G(z)))
            g_loss.backward()
            g_opt.step()
            D_losses.append(d_loss)
            G_losses.append(g_loss.item())
    '''
    assert lines(source, "DL402") == [9]


def test_must_not_fire():
    sources = [
        "for x, y in loader:\n    loss = crit(model(x), y)\n    loss.backward()\n    total += loss.item()\n",
        "for x, y in loader:\n    loss = crit(model(x), y)\n    loss.backward()\n    total += loss.detach()\n",
        "for x, y in loader:\n    loss = crit(model(x), y)\n    loss.backward()\n    total += float(loss)\n",
        "for x, y in loader:\n    loss = crit(model(x), y)\n    loss.backward()\n    hist.append(loss.data.cpu())\n",
        # The parts of one step's loss, summed before its backward.
        "for x, y in loader:\n    loss = 0\n    for head in heads:\n        loss += crit(head(x), y)\n    loss.backward()\n",
        "for x, y in loader:\n    loss = crit(out, y)\n    loss = loss + reg_weight * reg_loss\n    loss.backward()\n",
        # Accumulated on purpose for one backward over several micro-batches.
        "for i, b in enumerate(loader):\n    loss = model(b)\n    total = total + loss\n"
        "    if (i + 1) % k == 0:\n        total.backward()\n        total = 0\n",
        # No backward: evaluation.
        "for x, y in val_loader:\n    loss = crit(model(x), y)\n    total += loss\n",
        # Rebound to a number before it is added up.
        "for x, y in loader:\n    loss = crit(model(x), y)\n    loss.backward()\n    loss = loss.item()\n    total += loss\n",
        # Reset at the top of every iteration: lives one step.
        "for x, y in loader:\n    step_losses = []\n    loss = crit(model(x), y)\n    loss.backward()\n"
        "    step_losses.append(loss)\n",
        # A backward in a nested function does not make the loop a training loop.
        "for x in xs:\n    def closure():\n        loss = f(x)\n        loss.backward()\n        return loss\n"
        "    loss = opt.step(closure)\n    total += loss\n",
    ]
    for source in sources:
        assert lint(source, "DL402") == [], source
