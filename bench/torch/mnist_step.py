"""One training step of the CNNs timed by bench/wasm-training.ts and bench/wasm-training-profile.ts,
in PyTorch on the CPU with one thread: the reference for the wasm training numbers in
docs/guide/wasm-training.md.

  /usr/bin/python3 bench/torch/mnist_step.py [--model mnist|cifar|both] [--steps 30] [--warmup 5]
      [--batch 64] [--json]

Also run by `npm run bench -- --only training --torch` and by bench/wasm-training-profile.ts --torch
(with --json: the last line is {"mnist": {"median": ms, "min": ms, "cpuMedian": ms}, ...}).

mnist: conv32 3x3 valid, relu, maxpool 2 - conv64 3x3 valid, relu, maxpool 2 - dense 128 relu -
dropout 0.25 - dense 10 softmax; categorical cross-entropy on one-hot targets; Adam 1e-3; batch 64
of random 28x28x1 images.
cifar (examples/cifar/model.ts, default sizes): conv16 3x3 same, relu, maxpool 2 - conv32 3x3
same, relu, maxpool 2 - dense 128 relu - dropout 0.5 - dense 10 softmax; sparse categorical
cross-entropy; Adam 1e-3; batch 64 (--batch) of random 32x32x3 images (the data does not change the time).

A step is zero_grad, forward, loss, backward, optimizer step and reading the loss value back (as
tfjs's trainOnBatch does). Prints the median and minimum wall ms/step, and the median CPU time of
the process per step (steadier than wall time when other jobs share the cores).
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mnist_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10),
    )


def cifar_model():
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
    )


def time_step(name, steps, warmup, batch=64):
    torch.manual_seed(7)
    model = mnist_model() if name == 'mnist' else cifar_model()
    shape = (batch, 1, 28, 28) if name == 'mnist' else (batch, 3, 32, 32)
    x = torch.rand(shape)
    labels = torch.randint(0, 10, (batch,))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    times = []
    cpu_times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        cpu_start = time.process_time()
        optimizer.zero_grad()
        logits = model(x)
        # softmax output + cross-entropy on probabilities, as the tfjs models compute it, is
        # log_softmax + NLL here (the same work to within one elementwise pass).
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
        loss.item()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.process_time() - cpu_start) * 1000)
    return statistics.median(times), min(times), statistics.median(cpu_times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--model', default='both', choices=['mnist', 'cifar', 'both'])
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f'torch {torch.__version__}, threads {torch.get_num_threads()}')
    results = {}
    for name in (['mnist', 'cifar'] if args.model == 'both' else [args.model]):
        med, best, cpu = time_step(name, args.steps, args.warmup, args.batch)
        results[name] = {'median': med, 'min': best, 'cpuMedian': cpu}
        print(f'{name}: median {med:.1f} ms/step (min {best:.1f}; process CPU time {cpu:.1f} ms/step), '
              f'batch {args.batch}, {args.steps} steps')
    if args.json:
        print(json.dumps(results))


if __name__ == '__main__':
    main()
