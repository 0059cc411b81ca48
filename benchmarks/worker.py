"""Run one case for one engine in this (fresh) process and print its numbers as JSON."""

import json
import sys

from .cases import CASES

if __name__ == "__main__":
    case, engine = sys.argv[1], sys.argv[2]
    print(json.dumps(CASES[case](engine)))
