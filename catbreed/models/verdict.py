"""The verdict a person reads first: a breed, "not sure", "not one of my breeds" or "not a cat".

One rule for every face (Classify, the Train page's results, `predict --json`, exports' example):

1. It names a breed when the photo looks like the breeds it learned (familiarity.py) and the
   likeliest breed is at least `not_sure_below`: a clear answer, even where ImageNet's own classes
   doubt it is a cat (a grey cat in a dim room), since the breeds learned are cats. A model that
   cannot judge familiarity (the built-in one) names nothing ImageNet does not see as a cat.
2. Otherwise, "not a cat" when ImageNet's classes do not see a cat either;
3. else "not one of my breeds" when it is unlike every breed learned,
4. else "not sure": it hesitates between breeds it knows.

The thresholds are a model's own, chosen at training from photos each fold had not seen
(learn/verdicts.py); a person may move them. A model without a familiarity scorer (the built-in
ImageNet model, or one trained before it existed) never says "not one of my breeds".
"""

from __future__ import annotations

from dataclasses import dataclass

from catbreed.messages import LITERAL, Message, message

BREED, NOT_SURE, UNKNOWN_BREED, NOT_A_CAT = "breed", "not_sure", "unknown_breed", "not_a_cat"
VERDICTS = (BREED, NOT_SURE, UNKNOWN_BREED, NOT_A_CAT)
UNCALIBRATED_NOT_SURE = 0.5  # a model with no out-of-fold answers to choose from (the built-in one)


_HEADLINES = {NOT_SURE: "verdict.not_sure", UNKNOWN_BREED: "verdict.unknown_breed", NOT_A_CAT: "verdict.not_a_cat"}


def headline(verdict: str, breed: str) -> Message:
    """What a person reads first: the breed itself, or what the verdict says instead."""
    return message(_HEADLINES[verdict], breed=breed) if verdict in _HEADLINES else Message(LITERAL, {"text": breed})


@dataclass(frozen=True)
class Thresholds:
    not_sure_below: float = UNCALIBRATED_NOT_SURE  # the likeliest breed's probability
    unknown_below: float | None = None  # familiarity; None: never "not one of my breeds"


def decide(probability: float, familiarity: float | None, is_cat: bool, thresholds: Thresholds) -> str:
    """One of VERDICTS for a photo whose likeliest breed has `probability` (see the module docstring)."""
    judged = thresholds.unknown_below is not None and familiarity is not None
    familiar = not judged or familiarity >= thresholds.unknown_below
    # Only a model that can tell a photo unlike its breeds may overrule ImageNet's "not a cat".
    if familiar and probability >= thresholds.not_sure_below and (is_cat or judged):
        return BREED
    if not is_cat:
        return NOT_A_CAT
    return NOT_SURE if familiar else UNKNOWN_BREED
