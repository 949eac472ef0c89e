"""PyTorch CPU, one thread: forward+backward medians (ms) of the workloads of bench/fused.ts.

Run by `npm run bench -- --only fused --torch` (it needs /usr/bin/python3 with torch); prints one
JSON object {workload name: ms}. The inputs have the same shapes and distributions as the
TypeScript side (not the same numbers: timings do not depend on them).
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)


def median_ms(fn, runs, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2]


def timed(loss, x, runs):
    def step():
        z = x.detach().requires_grad_(True)
        loss(z).backward()
    return median_ms(step, runs)


def binary_focal(y, z, gamma=2.0):
    p = torch.sigmoid(z)
    ce = F.binary_cross_entropy_with_logits(z, y, reduction='none')
    p_t = p * y + (1 - p) * (1 - y)
    return (ce * (1 - p_t) ** gamma).mean()


def categorical_focal(y, z, gamma=2.0):
    logp = F.log_softmax(z, -1)
    return (-(y * (1 - logp.exp()) ** gamma * logp).sum(-1)).mean()


def dice_from_logits(y, z, smooth=1.0):
    p = torch.softmax(z, -1)
    axes = tuple(range(1, z.dim() - 1))
    inter = (p * y).sum(axes)
    total = p.sum(axes) + y.sum(axes)
    return (1 - (2 * inter + smooth) / (total + smooth)).mean()


def main():
    batch, classes, elements, runs = (int(a) for a in sys.argv[1:5])
    logits = torch.randn(batch, classes) * 2
    labels = torch.arange(batch) * 7919 % classes
    one_hot = F.one_hot(labels, classes).float()
    binary = (torch.rand(batch, classes) > 0.5).float()
    y = torch.randn(elements)
    x = torch.randn(elements) * 2
    seg_logits = torch.randn(16, 64, 64, 4)
    seg = F.one_hot(torch.randint(0, 4, (16, 64, 64)), 4).float()
    results = {
        'sparseCategoricalCrossentropy (logits)': timed(lambda z: F.cross_entropy(z, labels), logits, runs),
        'categoricalCrossentropy (logits)': timed(lambda z: F.cross_entropy(z, one_hot), logits, runs),
        'binaryCrossentropy (logits)': timed(lambda z: F.binary_cross_entropy_with_logits(z, binary), logits, runs),
        'binaryFocalCrossentropy (logits)': timed(lambda z: binary_focal(binary, z), logits, runs),
        'categoricalFocalCrossentropy (logits)': timed(lambda z: categorical_focal(one_hot, z), logits, runs),
        'meanSquaredError': timed(lambda p: F.mse_loss(p, y), x, runs),
        'meanAbsoluteError': timed(lambda p: F.l1_loss(p, y), x, runs),
        'huberLoss': timed(lambda p: F.huber_loss(p, y), x, runs),
        'smoothL1Loss': timed(lambda p: F.smooth_l1_loss(p, y), x, runs),
        'diceLoss (logits)': timed(lambda z: dice_from_logits(seg, z), seg_logits, runs),
    }
    print(json.dumps(results))


if __name__ == '__main__':
    main()
