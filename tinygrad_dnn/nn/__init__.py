"""Neural-network modules (``torch.nn``): Module, Parameter, layers, losses, ``functional``, ``init``, ``utils``."""
from . import (  # noqa: F401
    functional,
    init,
    parallel,
    utils,
)
from .activation import *
from .attention import *
from .containers import *
from .conv import *
from .dropout import *
from .linear import *
from .loss import *
from .module import Module, Parameter, RemovableHandle  # noqa: F401
from .normalization import *
from .pooling import *
from .rnn import *
from .sparse import *
from .upsampling import *
