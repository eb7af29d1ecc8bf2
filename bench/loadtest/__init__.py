"""Load and faults from one command: `make loadtest` (python -m bench.loadtest).

    make loadtest [DURATION=60] [CLIENTS=12] [FAULTS=1]

It builds a production stack of its own on this machine (loadtest/stack.py: a
PostgreSQL cluster and a Redis without persistence on free ports, gunicorn with
deploy/gunicorn.conf.py and nginx with deploy/nginx/chorus.conf over TLS),
migrates, imports and opens the bundled survey (loadtest/check.py), and runs
CLIENTS respondents at once for DURATION seconds, each doing full flows from the
landing page to the thanks page (loadtest/client.py). With FAULTS=1, in the same
run, a worker is killed with SIGKILL (twice), PostgreSQL is restarted and then
stopped for a few seconds, Redis is stopped for a few seconds, and slow clients
trickle headers and bodies all along (loadtest/faults.py).

Then a final round of flows runs with no fault, and every receipt a respondent
was shown is checked against the stored responses (loadtest/check.py). It prints
flows/s, requests/s, latency percentiles and errors by kind (loadtest/report.py),
and exits non-zero if anything acknowledged was lost or stored twice, a stored
response is partial, a request got a bare 500 (or any error outside a fault), a
flow of the final round failed or gunicorn had to be restarted. Everything it
started is stopped and its temporary folder deleted, also on failure or Ctrl-C.
Figures depend on the machine and what else runs on it: they are printed, not
asserted.
"""
