"""gunicorn settings for the web process (the Procfile's `web`); flags on the command line win."""

import environ

env = environ.Env()

bind = f"127.0.0.1:{env.int('PORT', default=8000)}"
workers = env.int("WEB_CONCURRENCY", default=2)
threads = env.int("WEB_THREADS", default=8)
accesslog = env.str("GUNICORN_ACCESS_LOG", default="-")
if not env.bool("GUNICORN_ACCESS_LOG_EVENTS", default=False):
    logger_class = "mvsic.access_log.AccessLogger"  # no line per accepted fan event
control_socket_disable = True
# Each worker listens on its own SO_REUSEPORT socket and the kernel spreads new connections
# over them. On one shared socket, whichever worker woke first could take every keep-alive
# connection of a client or proxy, leaving the other workers idle.
reuse_port = env.bool("GUNICORN_REUSE_PORT", default=True)


def post_worker_init(worker):
    # Publish events a previous, killed web process left in the spool, without waiting
    # for the first request.
    from analytics.relay import relay_start

    relay_start()


def worker_exit(server, worker):
    from analytics.relay import relay_stop

    relay_stop()
