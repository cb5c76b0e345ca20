"""The textbook algorithm in plain Python: the yardstick for every compiled kernel.

Biased matrix factorization trained by stochastic gradient descent, written the way
it is taught: a Python loop over the observed ratings, NumPy only for the factor
vectors. It is slow on purpose and obvious on purpose; tests and benchmarks run it
and the compiled kernels from the same starting point and compare.

Model and update, for each observed rating ``r`` of user ``u`` on item ``i``::

    prediction = mu + b_u + b_i + p_u . q_i
    e   = r - prediction
    b_u += lr * (e - reg * b_u)
    b_i += lr * (e - reg * b_i)
    p_u += lr * (e * q_i - reg * p_u)     # p_u and q_i both from their
    q_i += lr * (e * p_u - reg * q_i)     # values before this step

``mu`` is the mean of the observed ratings and the biases start at 0. The cost after
each epoch is the root-mean-square error over the observed ratings.

This module is imported by tests and benchmarks, never by the model.
"""

import numpy as np


class ReferenceMF:
    """Plain-Python SGD for biased matrix factorization.

    Parameters
    ----------
    users, items : sequence of int, length n
        Row indices of each rating into ``P`` and ``Q``.
    values : sequence of float, length n
        The observed ratings.
    P : ndarray, shape (n_users, k)
        Initial user factors; copied to float64.
    Q : ndarray, shape (n_items, k)
        Initial item factors; copied to float64.
    learning_rate : float
    regularization : float
    biased : bool, default True
        When False, ``mu`` and the biases are fixed at 0 and the model is ``p_u . q_i``.
    adagrad : bool, default False
        Per-row adaptive steps: every user and item row keeps a sum ``G`` that
        starts at 1; its factors and bias move by ``learning_rate / sqrt(G)``
        times the usual gradient, and ``G`` then grows by the mean square of the
        row's factor gradient (``mean((e q_i - reg p_u)**2)`` for ``p_u``).

    Attributes
    ----------
    P, Q : ndarray
        Current factors (float64).
    b_u, b_i : ndarray
        Current biases (float64).
    mu : float
        Mean of the observed ratings (0 when ``biased`` is False).
    """

    def __init__(
        self, users, items, values, P, Q, learning_rate, regularization, biased=True,
        adagrad=False,
    ):  # fmt: skip
        self.users = [int(u) for u in users]
        self.items = [int(i) for i in items]
        self.values = [float(r) for r in values]
        self.P = np.array(P, dtype=np.float64)
        self.Q = np.array(Q, dtype=np.float64)
        self.b_u = np.zeros(self.P.shape[0])
        self.b_i = np.zeros(self.Q.shape[0])
        self.mu = sum(self.values) / len(self.values) if biased else 0.0
        self.lr = float(learning_rate)
        self.reg = float(regularization)
        self.biased = biased
        # Per-row AdaGrad: each row's step is lr / sqrt(G) for its own G, which
        # starts at 1 and grows by the mean square of the row's gradient.
        self.adagrad = adagrad
        self.G_u = np.ones(self.P.shape[0])
        self.G_i = np.ones(self.Q.shape[0])

    def predict(self, u, i):
        """Predicted rating of user index ``u`` for item index ``i``."""
        return self.mu + self.b_u[u] + self.b_i[i] + np.dot(self.P[u], self.Q[i])

    def run_epoch(self, order=None):
        """Visit the ratings at the positions in ``order`` once, updating in place.

        Returns the sum of squared errors seen during the pass (each error taken
        before its own update), the quantity the compiled kernels return.
        """
        if order is None:
            order = range(len(self.values))
        sse = 0.0
        for idx in order:
            u = self.users[idx]
            i = self.items[idx]
            e = self.values[idx] - self.predict(u, i)
            sse += e * e

            lr_u, lr_i = self.lr, self.lr
            if self.adagrad:
                lr_u = self.lr / self.G_u[u] ** 0.5
                lr_i = self.lr / self.G_i[i] ** 0.5

            if self.biased:
                self.b_u[u] += lr_u * (e - self.reg * self.b_u[u])
                self.b_i[i] += lr_i * (e - self.reg * self.b_i[i])

            grad_p = e * self.Q[i] - self.reg * self.P[u]
            grad_q = e * self.P[u] - self.reg * self.Q[i]
            self.P[u] += lr_u * grad_p
            self.Q[i] += lr_i * grad_q
            if self.adagrad:
                self.G_u[u] += np.mean(grad_p**2)
                self.G_i[i] += np.mean(grad_q**2)
        return sse

    def cost(self):
        """Root-mean-square error over the observed ratings."""
        total = 0.0
        for u, i, r in zip(self.users, self.items, self.values, strict=True):
            total += (r - self.predict(u, i)) ** 2
        return (total / len(self.values)) ** 0.5

    def train(self, n_epochs, orders=None):
        """Run ``n_epochs`` epochs and return the cost after each.

        ``orders`` is a sequence of ``n_epochs`` visiting orders (one per epoch) or
        None to visit the ratings in their stored order every epoch.
        """
        costs = []
        for epoch in range(n_epochs):
            self.run_epoch(None if orders is None else orders[epoch])
            costs.append(self.cost())
        return costs
