"""Exercise 9: a learning-rate schedule with linear warmup and cosine decay.

With base learning rate a, minimum a_min, W warmup steps, T total steps and start factor s:

    lr(t) = a (s + (1 - s) t / W)                                        0 <= t < W   (linear warmup)
    lr(t) = a_min + (a - a_min) (1 + cos(pi (t - W) / (T - W))) / 2      W <= t <= T  (cosine decay)
    lr(t) = a_min                                                        t > T        (stay at the floor)

so lr(0) = s a, lr(W) = a, lr(T) = a_min. This is PyTorch's
``SequentialLR(opt, [LinearLR(opt, s, 1.0, total_iters=W), CosineAnnealingLR(opt, T_max=T - W,
eta_min=a_min)], milestones=[W])`` for t <= T (which would rise again after T). With W = 0 there is
no warmup.
"""
import math


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, min_lr=0.0, start_factor=0.1):
    """The learning rate at integer ``step`` (0-based) as a Python float."""
    # BEGIN YOUR CODE
    # TODO(Exercise 9): the three cases of the module docstring.
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    if step >= total_steps:
        return float(min_lr)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2
    # END YOUR CODE
