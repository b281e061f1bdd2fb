"""Neural-network modules (``torch.nn``): Module, Parameter, layers, losses, ``functional``, ``init``, ``utils``."""
from . import functional, init, utils  # noqa: F401
from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .containers import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import Module, Parameter, RemovableHandle  # noqa: F401
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from . import parallel  # noqa: F401  (DistributedDataParallel)
from .sync_batchnorm import SyncBatchNorm  # noqa: F401
