"""``torch.backends.cudnn`` flags: settable for compatibility, no effect (there is no cuDNN here).

``deterministic`` (torch's default False), ``benchmark`` (False), ``enabled`` (True),
``allow_tf32`` (True). Every op here is deterministic for a given seed regardless of the flags.
"""
deterministic = False
benchmark = False
enabled = True
allow_tf32 = True


def is_available() -> bool:
    """False: no cuDNN (as torch's CPU build)."""
    return False


def version():
    """None: no cuDNN (as torch's CPU build)."""
    return None
