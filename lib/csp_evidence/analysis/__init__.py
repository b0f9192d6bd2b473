"""Statistics and the measures of each priority, computed from tidy tables."""
