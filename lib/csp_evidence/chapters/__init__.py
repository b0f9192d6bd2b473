"""One module per chapter notebook: what that chapter computes and says."""
