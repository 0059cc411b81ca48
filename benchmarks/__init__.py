"""Speed and memory of deltaw's engine, as ratios against peers measured in the same run."""
