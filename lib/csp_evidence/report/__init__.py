"""Output building blocks: sentences from numbers, charts in one house style, published tables, headline figures."""
