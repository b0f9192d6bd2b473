"""The evidence pack website: rendering (Quarto or smalldocs) and the home page's key findings."""
