"""Exercise 1: backpropagation by hand for a two-layer MLP (the delta recursion).

Model (rows are samples, X has shape (B, d)):

    Z1 = X @ W1.T + b1          (B, m)      W1: (m, d), b1: (m,)
    H  = tanh(Z1)               (B, m)
    Y_hat = H @ W2.T + b2       (B, k)      W2: (k, m), b2: (k,)
    L  = (1/B) * sum((Y_hat - Y)**2)        (a scalar: squared error summed over outputs, averaged over the batch)

Backward pass (deck 000, "delta recursion": delta_{l-1} = sigma'(z_{l-1}) * (A_l^T delta_l)):

    delta2 = dL/dY_hat = (2/B) (Y_hat - Y)               (B, k)
    dW2 = delta2.T @ H,     db2 = sum over the batch of delta2
    delta1 = (delta2 @ W2) * (1 - H**2)                  (tanh'(z) = 1 - tanh(z)^2)
    dW1 = delta1.T @ X,     db1 = sum over the batch of delta1

The grader compares your loss and all four gradients with tinygrad_dnn's autograd on the same model.
"""
import numpy as np


def mlp_forward(X, W1, b1, W2, b2):
    """Forward pass. Returns ``(Y_hat, cache)``; ``cache`` holds what the backward pass needs.

    Hint: keep ``X``, ``H`` and ``W2`` in the cache (tanh' can be computed from H).
    """
    # BEGIN YOUR CODE
    # TODO(Exercise 1): Z1 = X W1^T + b1, H = tanh(Z1), Y_hat = H W2^T + b2; cache = (X, H, W2).
    Z1 = X @ W1.T + b1
    H = np.tanh(Z1)
    Y_hat = H @ W2.T + b2
    return Y_hat, (X, H, W2)
    # END YOUR CODE


def mse_loss(Y_hat, Y):
    """L = (1/B) * sum((Y_hat - Y)**2), B = number of rows. Returns a Python float."""
    # BEGIN YOUR CODE
    # TODO(Exercise 1): the squared error summed over all entries, divided by the batch size B.
    return float(np.sum((Y_hat - Y) ** 2) / Y.shape[0])
    # END YOUR CODE


def mlp_backward(Y_hat, Y, cache):
    """Gradients of ``mse_loss(Y_hat, Y)`` with respect to W1, b1, W2, b2.

    Returns a dict ``{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}``, each with its parameter's shape.
    Hints: delta2 = (2/B)(Y_hat - Y); the bias gradients sum the deltas over the batch (axis 0);
    delta1 = (delta2 @ W2) * (1 - H**2).
    """
    X, H, W2 = cache
    # BEGIN YOUR CODE
    # TODO(Exercise 1): the delta recursion, output layer first.
    B = Y.shape[0]
    delta2 = (2.0 / B) * (Y_hat - Y)
    dW2 = delta2.T @ H
    db2 = delta2.sum(axis=0)
    delta1 = (delta2 @ W2) * (1.0 - H ** 2)
    dW1 = delta1.T @ X
    db1 = delta1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    # END YOUR CODE
