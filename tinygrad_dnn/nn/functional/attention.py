"""Attention (``torch.nn.functional.scaled_dot_product_attention`` and the multi-head attention
forward used by ``nn.MultiheadAttention``), composed from Tensor ops (matmul, softmax, masked_fill,
dropout): the gradients come from those ops, there is no Function of its own.

    attn(Q, K, V) = dropout(softmax(Q K^T * scale + bias)) V,   scale = 1/sqrt(E) by default

``bias`` is 0 where attention is allowed and -inf where it is not (or an additive float mask).
"""
from __future__ import annotations

import math

from ...autograd import creation as C
from ...autograd.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _dropout(x, p, training):
    from . import dropout

    return dropout(x, p, training)


def _safe_softmax(scores):
    """softmax over the last dim, with 0 (not NaN) for a row whose every score is -inf (PyTorch's
    ``_safe_softmax`` in scaled_dot_product_attention): such rows are filled with 0 before the softmax
    (finite, no NaN in the backward) and their weights zeroed after."""
    dead = scores.detach().amax(-1, keepdim=True) == float("-inf")
    return scores.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)


def _causal_allowed(L, S, device):
    """(L, S) bool mask, True on and below the diagonal (``ones(L, S).tril()``), from arange comparisons."""
    i = C.arange(L, device=device)
    j = C.arange(S, device=device)
    return i.unsqueeze(1) >= j.unsqueeze(0)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q K^T * scale + mask) V over the last two dims; leading dims broadcast.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). ``attn_mask``: bool (True =
    take part in attention, as PyTorch) or float (added to the scores), broadcastable to (..., L, S).
    ``is_causal``: position i attends to j <= i (upper-left aligned, as PyTorch); cannot be combined
    with ``attn_mask``. ``dropout_p`` is applied to the attention weights (always: pass 0.0 in eval).
    ``scale`` defaults to 1/sqrt(E). A query whose every key is masked out gets zero weights (output 0), as
    PyTorch's math kernel.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention: expected {name} to be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must be at least 2-D, got shape {tuple(t.shape)}")
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa=True is not supported")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"scaled_dot_product_attention: expected query, key and value to have the same dtype, "
                           f"got query {query.dtype}, key {key.dtype}, value {value.dtype}")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"scaled_dot_product_attention: expected a floating point dtype, got {query.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query embedding size {query.shape[-1]} does not match key "
                           f"embedding size {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key length {key.shape[-2]} does not match value length "
                           f"{value.shape[-2]}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        scores = scores.masked_fill(_causal_allowed(L, S, query.device).logical_not(), float("-inf"))
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"scaled_dot_product_attention: attn_mask must be a Tensor, got {type(attn_mask).__name__}")
        if attn_mask.dtype.name == "bool":
            scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
        elif attn_mask.dtype is not query.dtype:
            raise RuntimeError(f"scaled_dot_product_attention: expected attn_mask dtype to be bool or to match query "
                               f"dtype {query.dtype}, got {attn_mask.dtype}")
        else:
            scores = scores + attn_mask
    w = scores.softmax(-1) if attn_mask is None else _safe_softmax(scores)
    if dropout_p > 0.0:
        w = _dropout(w, dropout_p, True)
    return w @ value


def _canonical_mask(mask, name, other_name, other_type, target_type):
    """A bool mask (True = NOT allowed, the nn.MultiheadAttention convention) as an additive float mask."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"MultiheadAttention: {name} must be a Tensor, got {type(mask).__name__}")
    if mask.dtype.name == "bool":
        return C.zeros(tuple(mask.shape), dtype=target_type, device=mask.device).masked_fill(mask, float("-inf"))
    if not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on sequence-first inputs (L, N, E) (or unbatched (L, E)), as PyTorch.

    Returns (output (L, N, E), weights (N, L, S) averaged over heads, (N, H, L, S) if not
    ``average_attn_weights``, or None if not ``need_weights``). Masks: ``key_padding_mask`` (N, S) and
    ``attn_mask`` (L, S) or (N*H, L, S); bool True means "do not attend", a float mask is added.
    """
    from .linear import linear

    if bias_k is not None or bias_v is not None or add_zero_attn or static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: bias_k/bias_v, add_zero_attn and static_k/static_v "
                                  "are not supported")
    unbatched = query.ndim == 2
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"query, key and value must all be 2-D (unbatched) or 3-D (batched), got shapes "
                             f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            if key_padding_mask.ndim != 1:
                raise AssertionError(f"For unbatched (2-D) query, expected key_padding_mask to be None or 1-D but "
                                     f"found {key_padding_mask.ndim}-D tensor instead")
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    if embed_dim % num_heads:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
    head_dim = embed_dim // num_heads
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", "attn_mask", attn_mask, query.dtype)
    attn_mask = _canonical_mask(attn_mask, "attn_mask", None, None, query.dtype)

    # input projections
    if not use_separate_proj_weight:
        wq, wk, wv = in_proj_weight.chunk(3)
    else:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    bq = bk = bv = None
    if in_proj_bias is not None:
        bq, bk, bv = in_proj_bias.chunk(3)
    q, k, v = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    # (L, N, E) -> (N*H, L, hd)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(src_len, bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(src_len, bsz * num_heads, head_dim).transpose(0, 1)

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0
    scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
    if attn_mask is not None:
        scores = scores + attn_mask
    # PyTorch: the need_weights path is a plain softmax (NaN rows when every key is masked); without
    # weights it runs scaled_dot_product_attention, whose fully masked rows give 0
    w = scores.softmax(-1) if need_weights or attn_mask is None else _safe_softmax(scores)
    if dropout_p > 0.0:
        w = _dropout(w, dropout_p, True)
    out = w @ v                                                         # (N*H, L, hd)
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    weights = None
    if need_weights:
        weights = w.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if unbatched:
            weights = weights.squeeze(0)
    if unbatched:
        out = out.squeeze(1)
    return out, weights
