"""Pictures of computation graphs and weight updates (see issue: viz)."""
