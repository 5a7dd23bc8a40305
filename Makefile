# The two commands of README.rst, and the benchmarks.
.PHONY: run test bench

run:
	scripts/run

test:
	scripts/test

bench:
	scripts/bench
