"""Neural networks built from autograd Values (see issue: nn)."""
