"""gunicorn settings every way of serving shares (``make serve``, the Procfile, scripts/distributed.py):
gunicorn reads this file from the working directory by itself.

keepalive: a browser (or a load balancer) reuses its connection after a person's think time; with gunicorn's
    default of 2 s the server closes idle connections first and the next request can meet a reset
    (measured: connection resets under 50 simulated users with 1-3 s think time). 75 s outlasts a person's
    pause and the common 60 s idle timeout of load balancers, so the balancer always closes first.
control_socket_disable: gunicorn 27's control socket is one fixed path per user; two servers on one machine
    (the two web processes of ``make serve-distributed``) would fight over it, and nothing here uses it.
The ``Server`` header names no software or version (gunicorn's default is ``gunicorn``), so a scan of the
    site learns nothing about what to attack. gunicorn has no option for it; its response class reads this
    module-level name for every response.
"""

import gunicorn.http.wsgi

keepalive = 75
control_socket_disable = True
gunicorn.http.wsgi.SERVER = "web"
