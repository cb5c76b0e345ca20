"""Exceptions raised by fastmf."""


class NotFittedError(ValueError, AttributeError):
    """A model was used before ``fit`` succeeded."""


class DivergenceError(FloatingPointError):
    """Training produced a non-finite value; the model was left unfitted.

    Attributes
    ----------
    epoch : int
        1-based epoch in which the first non-finite value appeared.
    """

    def __init__(self, message, epoch):
        super().__init__(message)
        self.epoch = epoch


class RatingsFileError(ValueError):
    """A ratings file could not be read; the message names file, line and column.

    Attributes
    ----------
    path : str
    line : int or None
        1-based line number.
    column : int or None
        1-based column (field) number.
    """

    def __init__(self, message, path, line=None, column=None):
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column
