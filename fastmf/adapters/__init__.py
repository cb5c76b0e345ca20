"""Adapters that let other libraries' code run on fastmf's estimator.

- :mod:`fastmf.adapters.surprise`: :class:`~fastmf.adapters.surprise.SVD`, a
  drop-in replacement for ``surprise.SVD`` that works inside Surprise's
  ``cross_validate`` and ``GridSearchCV``. Needs scikit-surprise:
  ``pip install 'fastmf[surprise]'``.

Each adapter lives in its own module and imports its library when that module is
imported, so ``import fastmf.adapters`` never needs any of them.
"""
