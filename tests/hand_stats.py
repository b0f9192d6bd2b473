"""Statistics computed by hand from their textbook formulae, for tests to check the library against."""

import math

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson_by_hand(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson (1927) score interval: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def ztest_by_hand(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided pooled z-test p-value: z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2))."""
    p = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))
