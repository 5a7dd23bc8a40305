# The two commands of README.rst, and the benchmarks.
.PHONY: run test test-odoo bench

run:
	scripts/run

test:
	scripts/test

# Odoo's own longer suites of the modules we extend, with and without the add-on.
test-odoo:
	scripts/test-odoo

# make bench SCALE=10: also a book ten times larger, same reminders due (scripts/bench --scale 10).
bench:
	scripts/bench $(if $(SCALE),--scale $(SCALE))
