"""Product categories from descriptions, by a keyword rule table that a user can replace.

The table is data: a DataFrame with columns ``category`` and ``keywords`` (comma-separated words or phrases).
A description belongs to the first category (in table order) with a keyword that appears in it as a whole
word, case-insensitively, optionally followed by a plural ``S``/``ES`` ("BAG" matches "JUMBO BAGS", not
"BAGUETTE"). Descriptions matching no rule, and missing descriptions, fall in :data:`OTHER`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analytics.errors import DataError
from analytics.values import codes_of

OTHER = "other"

# Tuned on a UK gift retailer's catalogue (UCI Online Retail): order matters, seasonal first, then the
# container-like words ("LUNCH BAG" is a bag, "CAKE TIN" is kitchen) before the broader decor words.
_DEFAULT_RULES: dict[str, str] = {
    "christmas": "CHRISTMAS, XMAS, ADVENT, SANTA, REINDEER, SNOWFLAKE, SNOWMAN, BAUBLE, NATIVITY, TINSEL, "
    "SLEIGH, JINGLE BELL",
    "bags": "BAG, SHOPPER, TOTE",
    "kitchen_dining": "MUG, CUP, TEACUP, SAUCER, PLATE, BOWL, JUG, TEAPOT, CAKESTAND, CAKE CASE, CAKE TIN, "
    "CUTLERY, BAKING, KITCHEN, APRON, LUNCH BOX, JAR, PANTRY, RECIPE, TEA TOWEL, TOWEL, TRAY, SPOON, "
    "COASTER, PLACEMAT, GLASS, BEAKER, TUMBLER, STRAW, COOKIE CUTTER, CAKE, TEA, COFFEE, SUGAR, MILK, "
    "BREAD, JAM, SNACK, POPCORN, PICNIC, DINER",
    "home_decor": "HOLDER, T-LIGHT, LANTERN, CANDLE, FRAME, CLOCK, CUSHION, DOORMAT, SIGN, MIRROR, DRAWER, "
    "CABINET, HOOK, KNOB, LIGHT, ORNAMENT, DECORATION, GARLAND, WICKER, BASKET, STORAGE, HOT WATER BOTTLE, "
    "VASE, PLAQUE, THROW, BLANKET, CHALKBOARD, BIN, DOORSTOP, WALL ART, SHELF, COAT HANGER, COAT RACK, "
    "MEMO BOARD, MEMOBOARD, BLACK BOARD, TRINKET BOX, KEEPSAKE BOX, SEWING BOX, CHEST, CRATE, HOTTIE, "
    "CLOTHES PEG, TIN",
    "party_stationery": "CARD, PAPER, WRAP, PARTY, BUNTING, BALLOON, NOTEBOOK, PEN, PENCIL, STICKER, RIBBON, "
    "NAPKIN, ENVELOPE, GIFT TAG, TAPE, STAMP, CRACKER, CONFETTI, BIRTHDAY",
    "toys_kids": "TOY, GAME, DOLL, DOLLY, CHILDRENS, CHILDREN, KIDS, SPACEBOY, JIGSAW, PLAYHOUSE, HARMONICA, "
    "CRAYON, PUZZLE, SKIPPING ROPE, FELTCRAFT, DOMINO, BLOCK WORD, TEDDY, ALPHABET BLOCK, SKITTLE, "
    "SNAKES & LADDERS, GLIDER, PIGGY BANK, RULER, PAINT SET, COLOURING, MODELLING, KNITTING, SEWING KIT",
    "garden": "GARDEN, PLANT, PLANTER, FLOWER POT, WATERING CAN, BIRD FEEDER, BIRD HOUSE, GNOME",
    "accessories": "NECKLACE, EARRING, BRACELET, RING, HAIR, CLIP, PURSE, UMBRELLA, WALLET, SCARF, BROOCH, "
    "BANGLE, KEYRING, KEY RING, HANDBAG, JEWEL, JEWELLERY, PASSPORT COVER, BADGE, PARASOL, HAND WARMER, "
    "LIP GLOSS, PONCHO",
}
DEFAULT_CATEGORIES: pd.DataFrame = pd.DataFrame(
    {"category": list(_DEFAULT_RULES), "keywords": list(_DEFAULT_RULES.values())}
)


def validate_categories(table: pd.DataFrame) -> pd.DataFrame:
    """Check a category rule table and return it normalised (stripped names and keywords, default index).

    Raises :class:`DataError` naming the problem: missing columns, empty or duplicated category names,
    rows without keywords, or a category named like the catch-all :data:`OTHER`.
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(
            f"category rules must be a table with columns category, keywords; got {type(table).__name__}"
        )
    missing = [c for c in ("category", "keywords") if c not in table.columns]
    if missing:
        raise DataError(
            f"category rules are missing column(s) {missing}; found {list(table.columns)}; "
            "expected columns category, keywords (comma-separated)"
        )
    out = pd.DataFrame(
        {
            "category": table["category"].astype("string").str.strip(),
            "keywords": table["keywords"].astype("string").fillna(""),
        }
    ).reset_index(drop=True)
    bad_name = out.index[out["category"].isna() | (out["category"] == "")]
    if len(bad_name):
        raise DataError(f"category rules: empty category name in row(s) {list(bad_name[:5])}")
    dup = out["category"][out["category"].str.lower().duplicated()]
    if len(dup):
        raise DataError(f"category rules: category names must be unique; repeated: {sorted(set(dup))[:5]}")
    if (out["category"].str.lower() == OTHER).any():
        raise DataError(f"category rules: '{OTHER}' is reserved for descriptions that match no rule")
    no_kw = [out.at[i, "category"] for i in out.index if not _keywords(out.at[i, "keywords"])]
    if no_kw:
        raise DataError(f"category rules: no keywords for category {no_kw[:5]}")
    return out


def category_column(category: str) -> str:
    """Feature column name for a category's spend share, e.g. ``"Home Decor"`` -> ``"cat_home_decor"``."""
    slug = re.sub(r"[^0-9a-z]+", "_", str(category).lower()).strip("_")
    return f"cat_{slug or 'unnamed'}"


def categorise(descriptions: pd.Series, table: pd.DataFrame | None = None) -> pd.Series:
    """Category of each description (string Series aligned with the input; :data:`OTHER` if none matches)."""
    codes, names = category_codes(descriptions, table)
    labels = np.asarray(names, dtype=object)[codes]
    return pd.Series(labels, index=descriptions.index, dtype="string", name="category")


def category_codes(
    descriptions: pd.Series, table: pd.DataFrame | None = None
) -> tuple[np.ndarray, list[str]]:
    """Category number of each description and the category names (table order, :data:`OTHER` last).

    Only the unique descriptions are matched, so a million lines over a few thousand products stay cheap.
    """
    rules = validate_categories(DEFAULT_CATEGORIES if table is None else table)
    names = [*rules["category"], OTHER]
    if isinstance(descriptions.dtype, pd.CategoricalDtype):  # the cleaned lines': every category is matched
        codes, uniques = codes_of(descriptions), descriptions.cat.categories
    else:
        codes, uniques = pd.factorize(descriptions, use_na_sentinel=True)
    text = pd.Series(np.asarray(uniques, dtype=object)).astype("string").str.upper()
    text = text.str.replace(r"\s+", " ", regex=True)
    per_unique = np.full(len(text) + 1, len(names) - 1, dtype=np.int64)  # last slot: missing description
    unassigned = np.ones(len(text), dtype=bool)
    for number, keywords in enumerate(rules["keywords"]):
        pattern = r"\b(?:" + "|".join(re.escape(k.upper()) for k in _keywords(keywords)) + r")(?:S|ES)?\b"
        hit = unassigned & text.str.contains(pattern, regex=True, na=False).to_numpy(dtype=bool)
        per_unique[:-1][hit] = number
        unassigned &= ~hit
    return per_unique[codes], names


def _keywords(cell: object) -> list[str]:
    if cell is None or cell is pd.NA or (isinstance(cell, float) and np.isnan(cell)):
        return []
    return [" ".join(k.split()) for k in str(cell).split(",") if k.strip()]
