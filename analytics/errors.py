"""The one exception type raised for every problem with the user's input, and the record of a model it stopped."""

from dataclasses import dataclass


class DataError(ValueError):
    """Input data cannot be used. The message names the problem for a person to fix.

    It says what was expected and what was found (the column, the first bad rows and values, the counts),
    never a library traceback.
    """


@dataclass(frozen=True)
class ModelFailure:
    """A model that could not be fitted on these data, in the model's place in the results.

    message: the DataError's text, shown where the model's output would be and written to the summary.
    """

    message: str

    def summary(self) -> dict[str, str]:
        return {"error": self.message}
