"""The one exception type raised for every problem with the user's input."""


class DataError(ValueError):
    """Input data cannot be used. The message names the problem for a person to fix.

    It says what was expected and what was found (the column, the first bad rows and values, the counts),
    never a library traceback.
    """
