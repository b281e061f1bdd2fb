"""Data: datasets (generated or bundled locally, never downloaded), Dataset/DataLoader, transforms.

This package is the documented host-side boundary: it builds data with NumPy on the host and
converts it explicitly with ``tinygrad_dnn.tensor``. See ``datasets``, ``dataset``, ``loader``,
``transforms`` and ``functions`` for details.
"""
from ._rng import Generator
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .datasets import (Splits, cubic_fit_data, load_digits, load_mnist1d, make_circles, make_least_squares,
                       make_moons, make_sin_data, make_spirals)
from .functions import TEST_FUNCTIONS, TestFunction, get_test_function, quadratic, rosenbrock, saddle
from .loader import DataLoader, default_collate
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)
from .distributed import DistributedSampler
from .mnist1d import make_mnist1d, mnist1d_templates
from .transforms import (PCA, Compose, CutMix, Cutout, GaussianNoise, Lambda, Mixup, RandomCrop, RandomFlip,
                         RandomHorizontalFlip, Standardize, SubtractChannelMean, Transform, Whitening,
                         soft_target_cross_entropy)

__all__ = [
    "Generator", "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
    "default_collate", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler", "DistributedSampler", "Splits", "load_digits", "load_mnist1d", "make_mnist1d", "mnist1d_templates", "make_spirals",
    "make_moons", "make_circles", "make_sin_data", "cubic_fit_data", "make_least_squares", "quadratic",
    "rosenbrock", "saddle", "TEST_FUNCTIONS", "TestFunction", "get_test_function", "Transform", "Compose",
    "Lambda", "Standardize", "SubtractChannelMean", "PCA", "Whitening", "GaussianNoise", "RandomCrop",
    "RandomFlip", "RandomHorizontalFlip", "Mixup", "CutMix", "Cutout", "soft_target_cross_entropy",
]
