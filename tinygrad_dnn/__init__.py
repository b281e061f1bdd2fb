"""tinygrad_dnn: a small, readable deep-learning framework with PyTorch's API.

``import tinygrad_dnn as torch`` runs the lectures' PyTorch snippets unchanged.
"""
from . import autograd
from .autograd import *  # noqa: F401,F403
from .autograd import Tensor, grad, no_grad, tensor
from .autograd import dtype as _dtype_mod
from .autograd.creation import get_default_device, set_default_device
from .backend import Device as device
from .backend import available_devices
from .backend.random import Generator, fork_rng, get_rng_state, initial_seed, set_rng_state
from .functional_ops import *  # noqa: F401,F403

__version__ = "0.1.0"

float = _dtype_mod.float32  # noqa: A001  (torch.float)
double = _dtype_mod.float64
half = _dtype_mod.float16
long = _dtype_mod.int64
int = _dtype_mod.int32  # noqa: A001
bool = _dtype_mod.bool_  # noqa: A001
from .autograd.dtype import (bool_, float16, float32, float64, get_default_dtype, int8, int16,  # noqa: E402
                             int32, int64, set_default_dtype, uint8)


from . import nn, optim  # noqa: E402  (the facade imports everything; the core does not)
# torch's other namespaces (issue 13): torch.utils.data, torch.cuda, torch.backends, torch.linalg, torch.testing
from . import backends, cuda, linalg, testing, utils  # noqa: E402
from .autograd.dtype import finfo, iinfo  # noqa: E402
from .autograd.grad_mode import inference_mode  # noqa: E402
from .backend.threads import apply_default_threads as _apply_default_threads  # noqa: E402
from .backend.threads import get_num_threads, set_num_threads  # noqa: E402
import sys as _sys  # noqa: E402

gradcheck = _sys.modules[__name__ + ".gradcheck"]  # the module (``from .autograd import *`` brought the function)
del functional, gradgradcheck  # torch.autograd.functional / gradgradcheck live under autograd only
from .serialization import load, save  # noqa: E402

_apply_default_threads()  # BLAS threads = idle cores (backend/threads.py has the measurements)
