/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mxpathd.c - the daemon: both doors around one router
 *
 * Start-up, in this order: read and check the configuration; check (-t) or
 * make the directories of the sockets and pid file; open every socket as
 * root (socketmap, control, milter); leave the terminal; write the pid
 * file; give up root; start the event-loop thread (router, resolver,
 * cache, socketmap, control) and, with the milter door, the milter thread
 * (smfi_main); serve.
 *
 * Signals are blocked in every thread; the main thread takes them with
 * sigwait():
 *   SIGUSR1                  reload the configuration; `mxpath reload` on
 *                            the control socket sends us the same signal
 *                            and gets the result;
 *   SIGTERM, SIGINT, SIGHUP  stop. HUP stops rather than reloads, as it
 *                            does in libmilter, so it means one thing in
 *                            every set-up;
 *   SIGUSR2                  internal: another thread asks for the stop.
 * smfi_main() starts a signal thread of its own for TERM, INT and HUP;
 * Linux hands a process-directed signal to the main thread when it waits
 * for it, so ours sees the stop first, and if libmilter's does (during a
 * reload), smfi_main() returns and the milter thread asks for the stop.
 *
 * A stop is bounded (STOP_GRACE_MS, then libmilter's 5 s poll at most):
 * every door stops accepting at once (smfi_stop(), the socketmap and
 * control sockets closed and removed); lookups waiting for DNS get their
 * real answer if it comes within STOP_GRACE_MS, and 451 4.3.2 / TEMP then
 * (router_stop_waiting), so the MTA retries; then the pid file goes and the
 * process exits 0.
 *
 * Not here: how a door speaks its protocol, how routes are decided, how
 * the configuration is parsed, how a process detaches (daemon.c).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mxpath/base/common.h"
#include "mxpath/config/config.h"
#include "mxpath/doors/control.h"
#include "mxpath/runtime/daemon.h"
#include "mxpath/runtime/evloop.h"
#include "mxpath/runtime/listen.h"
#include "mxpath/doors/milter.h"
#include "mxpath/engine/policy.h"
#include "mxpath/dns/router.h"
#include "mxpath/doors/socketmap.h"

#define EXIT_USAGE 64		/* sysexits.h EX_USAGE */
#define ERR_MAX CONFIG_ERROR_MAX
#define STOP_GRACE_MS 2000	/* how long a stop waits for DNS answers in flight */
#define STOP_POLL_MS 20
/*
 * libmilter's listener sees a stop within its 5 s poll. Past this its
 * teardown is stuck: its pool controller destroys the pool's lock while
 * the listener and the workers still take it, and now and then one of
 * them never gets it back. Every session was answered by then.
 */
#define MILTER_STOP_MS 7000

struct mxpathd {
	char *config_path;		/* absolute: reloads happen after chdir("/") */
	char *pidfile;			/* -p, else the policy's; NULL: none */
	char *log_file;			/* -L; NULL: stderr (-f) or syslog */
	bool foreground;

	struct policy *policy;		/* the one started with */
	struct daemon_settings settings;	/* the file's at start: sockets, user */
	struct daemon_user user;
	struct door_socket socketmap_socket, control_socket, milter_socket;

	struct evloop *loop;
	struct router *router;
	struct socketmap *socketmap;	/* NULL: door disabled */
	struct control *control;	/* NULL: no control socket */
	int socketmap_fd, control_fd;	/* listening; the doors only watch them */
	bool socketmap_open, control_open;	/* we created these sockets */
	bool milter_enabled;

	pthread_t main_thread, loop_thread, milter_thread, milter_stopper;
	bool loop_running, milter_running, milter_stopping;
	sigset_t signals;		/* what the main thread waits for */
	_Atomic uint64_t reload_ticket;	/* the control socket's latest reload request */

	pthread_mutex_t lock;		/* guards what follows */
	pthread_cond_t cond;
	bool stop_requested;
	bool shutting_down;		/* the loop may stop now */
	bool loop_exited;		/* evloop_run() returned */
	int exit_code;
};

/* A function to run on the loop thread while the caller waits. */
struct loop_call {
	struct mxpathd *d;
	void (*fn)(struct mxpathd *d, void *arg);
	void *arg;
	bool done;
};

struct reload_task {
	struct policy *policy;
	struct daemon_settings settings;
	int rc;
	char err[ERR_MAX];
};

/* A reload's outcome, on its way to the control socket's clients. */
struct reload_result {
	struct mxpathd *d;
	uint64_t ticket;
	char text[2 * ERR_MAX];
};

static int mxpathd_parse_args(struct mxpathd *d, int argc, char **argv, bool *check_only);
static void mxpathd_usage(FILE *out);
static int mxpathd_check(struct mxpathd *d);
static int mxpathd_preflight(struct mxpathd *d, enum dir_missing missing, char *err,
			     size_t errlen);
static int mxpathd_load_config(const char *path, struct policy **out,
			       struct daemon_settings *settings, char *err, size_t errlen);
static int mxpathd_start(struct mxpathd *d);
static int mxpathd_prepare(struct mxpathd *d, char *err, size_t errlen);
static int mxpathd_open_doors(struct mxpathd *d, char *err, size_t errlen);
static int mxpathd_become_daemon(struct mxpathd *d, char *err, size_t errlen);
static int mxpathd_attach_doors(struct mxpathd *d);
static void mxpathd_start_threads(struct mxpathd *d);
static void mxpathd_serve(struct mxpathd *d);
static void mxpathd_shutdown(struct mxpathd *d);
static void mxpathd_close_listeners(struct mxpathd *d);
static void mxpathd_drain(struct mxpathd *d);
static void mxpathd_stop_milter(struct mxpathd *d);
static void mxpathd_join_milter(struct mxpathd *d, uint64_t deadline_ms);
static void mxpathd_remove_files(struct mxpathd *d);
static void mxpathd_free(struct mxpathd *d);
static void mxpathd_log_started(const struct mxpathd *d);
static void mxpathd_request_stop(struct mxpathd *d, int exit_code);
static int mxpathd_open_log(const struct mxpathd *d);
static void mxpathd_reload(struct mxpathd *d, char *result, size_t resultlen);
static void mxpathd_reload_requested(void *arg, uint64_t ticket);
static void reload_result_deliver(void *arg);
static void mxpathd_call_on_loop(struct mxpathd *d, void (*fn)(struct mxpathd *, void *),
				 void *arg);
static void loop_call_run(void *arg);
static void reload_apply(struct mxpathd *d, void *arg);
static void doors_close(struct mxpathd *d, void *arg);
static void pending_read(struct mxpathd *d, void *arg);
static void stop_waiting(struct mxpathd *d, void *arg);
static void *loop_thread_main(void *arg);
static void *milter_thread_main(void *arg);
static void *milter_stopper_main(void *arg);
static void socket_for_daemon(const struct door_socket *in, const struct daemon_user *user,
			      struct door_socket *out);
static char *path_absolute(const char *path);
static const char *door_spec(const struct door_socket *socket);

int main(int argc, char **argv)
{
	struct mxpathd d = { .socketmap_fd = -1, .control_fd = -1 };
	bool check_only = false;
	int rc;

	log_open_stderr("mxpathd");
	rc = mxpathd_parse_args(&d, argc, argv, &check_only);
	if (rc >= 0) {
		mxpathd_free(&d);
		return rc;
	}
	if (check_only) {
		rc = mxpathd_check(&d);
		mxpathd_free(&d);
		return rc;
	}
	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.cond, NULL);
	rc = mxpathd_start(&d);
	if (rc == 0) {
		mxpathd_serve(&d);
		mxpathd_shutdown(&d);
		rc = d.exit_code;
	}
	mxpathd_free(&d);
	pthread_cond_destroy(&d.cond);
	pthread_mutex_destroy(&d.lock);
	return rc;
}

/* -1 to go on; otherwise the exit code. */
static int mxpathd_parse_args(struct mxpathd *d, int argc, char **argv, bool *check_only)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = CONFIG_DEFAULT_FILE, *pidfile = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "c:fhL:p:tV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'L':
			free(d->log_file);
			d->log_file = path_absolute(optarg);
			break;
		case 'f':
			d->foreground = true;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 't':
			*check_only = true;
			break;
		case 'h':
			mxpathd_usage(stdout);
			return 0;
		case 'V':
			printf("mxpathd %s\n", MXPATH_VERSION);
			return 0;
		default:
			mxpathd_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mxpathd: unexpected argument %s\n", argv[optind]);
		mxpathd_usage(stderr);
		return EXIT_USAGE;
	}
	d->config_path = path_absolute(config);
	d->pidfile = pidfile != NULL ? path_absolute(pidfile) : NULL;
	return -1;
}

static void mxpathd_usage(FILE *out)
{
	fprintf(out,
		"usage: mxpathd [-f] [-t] [-c FILE] [-L LOGFILE] [-p PIDFILE]\n"
		"\n"
		"Routes mail for Postfix and sendmail through a socketmap and a milter door.\n"
		"\n"
		"  -c FILE     the configuration (default %s). mxpathd never\n"
		"              starts without one: a missing file is an error, not defaults.\n"
		"  -f          stay in the foreground and log to stderr, each line with its\n"
		"              time (default: detach once serving, log to syslog, facility\n"
		"              mail)\n"
		"  -L LOGFILE  log to this file instead (appended, each line with its time)\n"
		"  -t          check the configuration and what a start needs, create\n"
		"              nothing, and exit: 0 if a start would go ahead; 78 with\n"
		"              FILE:LINE: message for a configuration error, no door, an\n"
		"              unknown user; 1 for an unusable or uncreatable directory\n"
		"  -p PIDFILE  write a pid file, removed at exit (overrides pidfile)\n"
		"  -V          print the version; -h this help\n"
		"\n"
		"Signals: SIGUSR1 reloads the configuration (a bad file is refused and the\n"
		"running one kept; socket, user and pidfile changes need a restart);\n"
		"`mxpath reload` does the same and prints the outcome.\n"
		"SIGTERM, SIGINT and SIGHUP stop gracefully, within 10 s.\n"
		"Exit: 0 stopped, 1 cannot start (socket, directory, user, log file),\n"
		"64 usage, 70 internal error, 78 configuration error.\n",
		CONFIG_DEFAULT_FILE);
}

/* -t: every check a start makes before it opens a socket; nothing is created. */
static int mxpathd_check(struct mxpathd *d)
{
	char err[ERR_MAX];
	int rc;

	if (mxpathd_load_config(d->config_path, &d->policy, &d->settings, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return DAEMON_EXIT_CONFIG;
	}
	rc = mxpathd_preflight(d, DIR_MISSING_CHECK, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return rc;
	}
	printf("%s: configuration OK\n", d->config_path);
	return 0;
}

/* The TLS policy table it names is trusted like the file itself. */
static int mxpathd_load_config(const char *path, struct policy **out,
			       struct daemon_settings *settings, char *err, size_t errlen)
{
	if (daemon_check_config_files(path, err, errlen) < 0 ||
	    config_load_file(path, out, settings, err, errlen) < 0)
		return -1;
	if ((*out)->tls.policy_table != NULL &&
	    daemon_check_config_file((*out)->tls.policy_table, err, errlen) < 0) {
		policy_unref(out);
		daemon_settings_clear(settings);
		return -1;
	}
	return 0;
}

/* ---- start-up ---- */

/*
 * -L FILE: every line there from now on. Else, a daemon that will log to
 * syslog says so on stderr while it still has one if nothing listens on
 * /dev/log (a container, a chroot): its lines would vanish silently.
 * With -f, stderr lines carry their time unless systemd's journal (which
 * stamps them itself) is reading them.
 */
static int mxpathd_open_log(const struct mxpathd *d)
{
	char err[ERR_MAX];

	if (d->log_file != NULL) {
		if (log_open_file("mxpathd", d->log_file, err, sizeof(err)) < 0) {
			log_errx("%s", err);
			return -1;
		}
		return 0;
	}
	if (d->foreground)
		log_set_timestamps(!log_stderr_is_journal());
	else if (!log_syslog_reachable())
		log_warnx("nothing listens on /dev/log: the daemon's log lines will be lost "
			  "(start a syslog daemon, or use -L FILE or -f)");
	return 0;
}

/* 0 when serving; otherwise the exit code, with the reason logged. */
static int mxpathd_start(struct mxpathd *d)
{
	char err[ERR_MAX];
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (mxpathd_open_log(d) < 0)
		return 1;
	if (mxpathd_load_config(d->config_path, &d->policy, &d->settings, err, sizeof(err)) < 0) {
		if (access(d->config_path, F_OK) < 0)
			log_errx("%s (mxpathd never starts without a configuration; name one "
				 "with -c FILE)", err);
		else
			log_errx("%s", err);
		return DAEMON_EXIT_CONFIG;
	}
	rc = mxpathd_prepare(d, err, sizeof(err));
	if (rc == 0 && mxpathd_open_doors(d, err, sizeof(err)) < 0)
		rc = 1;
	if (rc == 0 && mxpathd_become_daemon(d, err, sizeof(err)) < 0)
		rc = 1;
	if (rc != 0) {
		log_errx("%s", err);
		mxpathd_remove_files(d);
		return rc;
	}
	if (mxpathd_attach_doors(d) < 0) {
		mxpathd_remove_files(d);
		return 1;
	}
	mxpathd_start_threads(d);
	daemon_stats_started(d->milter_enabled);
	mxpathd_log_started(d);
	daemon_detach_done();
	return 0;
}

/* Everything that can be refused before a socket is opened. */
static int mxpathd_prepare(struct mxpathd *d, char *err, size_t errlen)
{
	const struct daemon_settings *p = &d->settings;
	int rc = mxpathd_preflight(d, DIR_MISSING_CREATE, err, errlen);

	if (rc != 0)
		return rc;
	socket_for_daemon(&p->socketmap, &d->user, &d->socketmap_socket);
	socket_for_daemon(&p->control, &d->user, &d->control_socket);
	socket_for_daemon(&p->milter, &d->user, &d->milter_socket);
	if (chdir("/") < 0) {
		snprintf(err, errlen, "chdir /: %s", strerror(errno));
		return 1;
	}
	return 0;
}

/*
 * What a start and -t both refuse: nothing to serve, an unknown user, a
 * directory for a socket or the pid file that is unsafe, or missing and
 * not creatable. 0, DAEMON_EXIT_CONFIG or 1 (the directories).
 */
static int mxpathd_preflight(struct mxpathd *d, enum dir_missing missing, char *err,
			     size_t errlen)
{
	const struct daemon_settings *p = &d->settings;

	if (p->milter.spec == NULL && p->socketmap.spec == NULL) {
		snprintf(err, errlen, "%s: neither milter.socket nor socketmap.socket is set: "
			 "nothing to serve", d->config_path);
		return DAEMON_EXIT_CONFIG;
	}
	if (d->pidfile == NULL && p->pidfile != NULL)
		d->pidfile = xstrdup(p->pidfile);
	if (daemon_find_user(p, d->config_path, &d->user, err, errlen) < 0)
		return DAEMON_EXIT_CONFIG;
	if (daemon_ready_socket_dir(&p->socketmap, "socketmap.socket", &d->user, missing, err,
				    errlen) < 0 ||
	    daemon_ready_socket_dir(&p->milter, "milter.socket", &d->user, missing, err,
				    errlen) < 0 ||
	    daemon_ready_socket_dir(&p->control, "control.socket", &d->user, missing, err,
				    errlen) < 0 ||
	    (d->pidfile != NULL &&
	     daemon_ready_file_dir(d->pidfile, "pidfile", &d->user, missing, err, errlen) < 0))
		return 1;
	return 0;
}

/* As root: the router, then every listening socket. */
static int mxpathd_open_doors(struct mxpathd *d, char *err, size_t errlen)
{
	mode_t old_mask;
	int rc;

	d->loop = evloop_new();
	d->router = router_new(d->loop, d->policy, err, errlen);
	if (d->router == NULL)
		return -1;
	if (d->socketmap_socket.spec != NULL) {
		d->socketmap_fd = listen_open(&d->socketmap_socket, "socketmap.socket", err, errlen);
		if (d->socketmap_fd < 0)
			return -1;
		d->socketmap_open = true;
	}
	if (d->control_socket.spec != NULL) {
		d->control_fd = listen_open(&d->control_socket, "control.socket", err, errlen);
		if (d->control_fd < 0)
			return -1;
		d->control_open = true;
	}
	if (d->milter_socket.spec == NULL)
		return 0;
	/* libmilter binds with the process umask: nobody may connect before
	 * milter_setup() sets the mode. */
	old_mask = umask(0177);
	rc = milter_setup(d->router, &d->milter_socket, d->settings.milter_timeout, err, errlen);
	umask(old_mask);
	if (rc < 0)
		return -1;
	d->milter_enabled = true;
	return 0;
}

/* Leave the terminal, take the pid file, give up root, block signals. */
static int mxpathd_become_daemon(struct mxpathd *d, char *err, size_t errlen)
{
	if (!d->foreground && daemon_detach(err, errlen) < 0)
		return -1;
	if (d->pidfile != NULL && daemon_pidfile_write(d->pidfile, err, errlen) < 0)
		return -1;
	if (daemon_drop_privileges(&d->user, err, errlen) < 0)
		return -1;
	/* Before any thread exists, so that every thread inherits the mask
	 * and only the main thread's sigwait() ever takes these. */
	sigemptyset(&d->signals);
	sigaddset(&d->signals, SIGUSR1);
	sigaddset(&d->signals, SIGUSR2);
	sigaddset(&d->signals, SIGTERM);
	sigaddset(&d->signals, SIGINT);
	sigaddset(&d->signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &d->signals, NULL);
	d->main_thread = pthread_self();
	return 0;
}

/* The doors on the loop (not running yet: set-up may watch from here). */
static int mxpathd_attach_doors(struct mxpathd *d)
{
	if (d->socketmap_fd >= 0) {
		d->socketmap = socketmap_new(d->loop, d->router, d->socketmap_fd);
		if (d->socketmap == NULL)
			return -1;	/* logged */
	}
	if (d->control_fd >= 0) {
		d->control = control_new(d->loop, d->control_fd, d->router, d->socketmap);
		if (d->control == NULL)
			return -1;
		control_set_hooks(d->control, &(struct control_hooks){
			.reload = mxpathd_reload_requested, .arg = d });
	}
	return 0;
}

static void mxpathd_start_threads(struct mxpathd *d)
{
	int rc;

	/* From here on, other threads may log: choose the sink first. */
	if (!d->foreground && d->log_file == NULL)
		log_open_syslog("mxpathd");
	rc = pthread_create(&d->loop_thread, NULL, loop_thread_main, d);
	if (rc != 0)
		fatal("cannot start the event-loop thread: %s", strerror(rc));
	d->loop_running = true;
	if (!d->milter_enabled)
		return;
	rc = pthread_create(&d->milter_thread, NULL, milter_thread_main, d);
	if (rc != 0)
		fatal("cannot start the milter thread: %s", strerror(rc));
	d->milter_running = true;
}

static void mxpathd_log_started(const struct mxpathd *d)
{
	log_info("mxpathd %s started: config %s; socketmap %s; milter %s; control %s; "
		 "user %s", MXPATH_VERSION, d->config_path, door_spec(&d->socketmap_socket),
		 door_spec(&d->milter_socket), door_spec(&d->control_socket), d->user.name);
	if (d->user.stays_root)
		log_warnx("running as root (user = \"root\" in %s)", d->config_path);
}

/* ---- serving ---- */

/* The main thread takes the signals until a stop is asked for. */
static void mxpathd_serve(struct mxpathd *d)
{
	int sig;

	for (;;) {
		if (sigwait(&d->signals, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			struct reload_result *r = xcalloc(1, sizeof(*r));

			/* Read first: a request made during this reload waits for the next. */
			r->d = d;
			r->ticket = atomic_load(&d->reload_ticket);
			mxpathd_reload(d, r->text, sizeof(r->text));
			evloop_post(d->loop, reload_result_deliver, r);
			continue;
		}
		if (sig != SIGUSR2) {
			log_info("SIG%s received: stopping", sigabbrev_np(sig));
			mxpathd_request_stop(d, 0);
		}
		pthread_mutex_lock(&d->lock);
		bool stop = d->stop_requested;
		pthread_mutex_unlock(&d->lock);
		if (stop)
			return;
	}
}

/* Any thread; the main thread hears it as SIGUSR2 when another one asks. */
static void mxpathd_request_stop(struct mxpathd *d, int exit_code)
{
	pthread_mutex_lock(&d->lock);
	if (exit_code != 0)
		d->exit_code = exit_code;
	d->stop_requested = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (!pthread_equal(pthread_self(), d->main_thread))
		pthread_kill(d->main_thread, SIGUSR2);
}

static void *loop_thread_main(void *arg)
{
	struct mxpathd *d = arg;
	bool expected;
	int rc;

	rc = evloop_run(d->loop);
	pthread_mutex_lock(&d->lock);
	expected = d->shutting_down;
	d->loop_exited = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (!expected) {
		/* The loop gave up on its own (epoll failed, logged): stop all. */
		log_errx("event loop stopped (rc %d): shutting down", rc);
		mxpathd_request_stop(d, 1);
	}
	return NULL;
}

/*
 * smfi_main() returns on smfi_stop() (our stop), or when libmilter's own
 * signal thread took a stop signal, or on failure: the last two ask the
 * daemon to stop.
 */
static void *milter_thread_main(void *arg)
{
	struct mxpathd *d = arg;

	if (milter_run() < 0) {
		log_errx("milter door: smfi_main failed");
		mxpathd_request_stop(d, 1);
	} else {
		mxpathd_request_stop(d, 0);
	}
	return NULL;
}

/* ---- reload ---- */

/* Logs the outcome and writes it to result: "reloaded FILE\n" or
 * "refused: why\n", then a "warning: ..." line for what needs a restart. */
static void mxpathd_reload(struct mxpathd *d, char *result, size_t resultlen)
{
	struct reload_task task = { 0 };
	char err[ERR_MAX], changes[256];
	int used;

	log_info("SIGUSR1 received: reloading %s", d->config_path);
	if (mxpathd_load_config(d->config_path, &task.policy, &task.settings, err, sizeof(err)) < 0) {
		log_errx("reload refused: %s", err);
		snprintf(result, resultlen, "refused: %s\n", err);
		daemon_stats_reloaded(false);
		return;
	}
	mxpathd_call_on_loop(d, reload_apply, &task);
	if (task.rc < 0) {
		log_errx("reload refused: %s", task.err);
		snprintf(result, resultlen, "refused: %s\n", task.err);
		daemon_stats_reloaded(false);
	} else {
		log_info("reloaded %s", d->config_path);
		used = snprintf(result, resultlen, "reloaded %s\n", d->config_path);
		daemon_stats_reloaded(true);
		if (daemon_restart_changes(&d->settings, &task.settings, changes, sizeof(changes)) > 0) {
			log_warnx("reload: %s changed in %s; the running value stays until a restart",
				  changes, d->config_path);
			if (used > 0 && (size_t)used < resultlen)
				snprintf(result + used, resultlen - (size_t)used, "warning: %s changed; "
					 "the running value stays until a restart\n", changes);
		}
	}
	policy_unref(&task.policy);
	daemon_settings_clear(&task.settings);
}

/* Loop thread (the control socket): the main thread does the work. */
static void mxpathd_reload_requested(void *arg, uint64_t ticket)
{
	struct mxpathd *d = arg;

	atomic_store(&d->reload_ticket, ticket);
	kill(getpid(), SIGUSR1);
}

/* Loop thread: the doors may be closed already. */
static void reload_result_deliver(void *arg)
{
	struct reload_result *r = arg;

	if (r->d->control != NULL)
		control_reload_done(r->d->control, r->ticket, r->text);
	free(r);
}

/* Loop thread: decisions in flight keep the policy they started with. */
static void reload_apply(struct mxpathd *d, void *arg)
{
	struct reload_task *task = arg;

	task->rc = router_set_policy(d->router, task->policy, task->err, sizeof(task->err));
}

/* ---- running code on the loop thread ---- */

/*
 * Runs fn on the loop thread and waits for it. If the loop has died (it
 * only does on an epoll failure), nothing else runs there any more and
 * fn runs here instead.
 */
static void mxpathd_call_on_loop(struct mxpathd *d, void (*fn)(struct mxpathd *, void *),
				 void *arg)
{
	struct loop_call call = { .d = d, .fn = fn, .arg = arg };
	bool loop_exited;

	evloop_post(d->loop, loop_call_run, &call);
	pthread_mutex_lock(&d->lock);
	while (!call.done && !d->loop_exited)
		pthread_cond_wait(&d->cond, &d->lock);
	loop_exited = !call.done;
	call.done = true;	/* the dead loop will never run the task */
	pthread_mutex_unlock(&d->lock);
	if (loop_exited) {
		pthread_join(d->loop_thread, NULL);
		d->loop_running = false;
		fn(d, arg);
	}
}

static void loop_call_run(void *arg)
{
	struct loop_call *call = arg;

	call->fn(call->d, call->arg);
	pthread_mutex_lock(&call->d->lock);
	call->done = true;
	pthread_cond_broadcast(&call->d->cond);
	pthread_mutex_unlock(&call->d->lock);
}

/* ---- shutdown ---- */

static void mxpathd_shutdown(struct mxpathd *d)
{
	uint64_t milter_deadline = clock_now_ms() + MILTER_STOP_MS;

	pthread_mutex_lock(&d->lock);
	d->shutting_down = true;
	pthread_mutex_unlock(&d->lock);
	mxpathd_stop_milter(d);
	mxpathd_call_on_loop(d, doors_close, NULL);
	mxpathd_close_listeners(d);
	mxpathd_drain(d);
	mxpathd_join_milter(d, milter_deadline);
	if (d->loop_running) {
		evloop_stop(d->loop);
		pthread_join(d->loop_thread, NULL);
		d->loop_running = false;
	}
	mxpathd_remove_files(d);
	log_info("mxpathd %s stopped", MXPATH_VERSION);
}

/* Nobody can connect any more: a client gets a refusal, not a hang. */
static void mxpathd_close_listeners(struct mxpathd *d)
{
	if (d->socketmap_fd >= 0) {
		close(d->socketmap_fd);
		d->socketmap_fd = -1;
	}
	if (d->control_fd >= 0) {
		close(d->control_fd);
		d->control_fd = -1;
	}
	if (d->socketmap_open)
		listen_cleanup(&d->socketmap_socket);
	if (d->control_open)
		listen_cleanup(&d->control_socket);
	d->socketmap_open = d->control_open = false;
}

/*
 * The loop runs on while decisions wait for DNS, up to STOP_GRACE_MS:
 * their answers still reach the clients that asked. Whatever still waits
 * then gets 451 4.3.2 / TEMP, and so does every later lookup that would
 * wait (milter sessions libmilter has not stopped yet).
 */
static void mxpathd_drain(struct mxpathd *d)
{
	uint64_t deadline = clock_now_ms() + STOP_GRACE_MS;
	unsigned pending = 0;

	while (d->loop_running) {
		mxpathd_call_on_loop(d, pending_read, &pending);
		if (pending == 0 || clock_now_ms() >= deadline)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = STOP_POLL_MS * 1000L * 1000 }, NULL);
	}
	mxpathd_call_on_loop(d, stop_waiting, NULL);
}

/*
 * smfi_stop() waits for libmilter's listener, which holds its lock through
 * a 5 s poll: a thread of its own waits for that while the other doors
 * close and the lookups are answered.
 */
static void mxpathd_stop_milter(struct mxpathd *d)
{
	int rc;

	if (!d->milter_running)
		return;
	rc = pthread_create(&d->milter_stopper, NULL, milter_stopper_main, NULL);
	if (rc == 0) {
		d->milter_stopping = true;
		return;
	}
	log_warnx("cannot start a thread to stop the milter door: %s", strerror(rc));
	milter_stop();
}

static void *milter_stopper_main(void *arg MX_UNUSED)
{
	milter_stop();
	return NULL;
}

/* True if THREAD ended by DEADLINE_MS (clock_now_ms); detached if not. */
static bool thread_join_by(pthread_t thread, uint64_t deadline_ms)
{
	uint64_t now = clock_now_ms();
	/* pthread_timedjoin_np() counts on CLOCK_REALTIME */
	struct timespec at = clock_after_ms(CLOCK_REALTIME, deadline_ms > now ? deadline_ms - now : 0);

	if (pthread_timedjoin_np(thread, NULL, &at) == 0)
		return true;
	pthread_detach(thread);
	return false;
}

/*
 * Its sessions were answered (router_stop_waiting); smfi_main() returns
 * soon, unless libmilter's teardown is stuck: then the process ends
 * without it, so that a stop is never held up by libmilter.
 */
static void mxpathd_join_milter(struct mxpathd *d, uint64_t deadline_ms)
{
	bool joined = true;

	if (d->milter_stopping) {
		joined = thread_join_by(d->milter_stopper, deadline_ms);
		d->milter_stopping = false;
	}
	if (d->milter_running) {
		joined = thread_join_by(d->milter_thread, deadline_ms) && joined;
		d->milter_running = false;
	}
	if (!joined)
		log_warnx("milter door: libmilter did not return within %d ms of the stop "
			  "(its worker pool's teardown is stuck); every session was answered, "
			  "stopping without it", MILTER_STOP_MS);
}

/* The sockets this process created, and the pid file. */
static void mxpathd_remove_files(struct mxpathd *d)
{
	if (d->socketmap_open)
		listen_cleanup(&d->socketmap_socket);
	if (d->control_open)
		listen_cleanup(&d->control_socket);
	if (d->milter_enabled)
		listen_cleanup(&d->milter_socket);
	daemon_pidfile_remove();
}

/* Loop thread: stop accepting; the doors answer what is in flight. */
static void doors_close(struct mxpathd *d, void *arg MX_UNUSED)
{
	control_free(&d->control);
	socketmap_free(&d->socketmap);
}

/* Loop thread: answer what still waits for DNS with a temporary failure. */
static void stop_waiting(struct mxpathd *d, void *arg MX_UNUSED)
{
	unsigned n = router_stop_waiting(d->router);

	if (n > 0)
		log_warnx("stopping: %u lookup(s) waiting for DNS answered with a temporary "
			  "failure", n);
}

/* Loop thread: how many decisions still wait for DNS. */
static void pending_read(struct mxpathd *d, void *arg)
{
	struct router_stats stats;

	router_get_stats(d->router, &stats);
	*(unsigned *)arg = stats.pending;
}

static void mxpathd_free(struct mxpathd *d)
{
	control_free(&d->control);
	socketmap_free(&d->socketmap);
	router_free(&d->router);
	evloop_free(&d->loop);
	if (d->socketmap_fd >= 0)
		close(d->socketmap_fd);
	if (d->control_fd >= 0)
		close(d->control_fd);
	policy_unref(&d->policy);
	daemon_settings_clear(&d->settings);
	free(d->socketmap_socket.owner);
	free(d->socketmap_socket.group);
	free(d->control_socket.owner);
	free(d->control_socket.group);
	free(d->milter_socket.owner);
	free(d->milter_socket.group);
	free(d->config_path);
	free(d->pidfile);
	free(d->log_file);
}

/* ---- helpers ---- */

/* A socket's owner and group default to the daemon's user and group. */
static void socket_for_daemon(const struct door_socket *in, const struct daemon_user *user,
			      struct door_socket *out)
{
	out->spec = in->spec;
	out->mode = in->mode;
	out->owner = xstrdup(in->owner != NULL ? in->owner : user->name);
	out->group = xstrdup(in->group != NULL ? in->group : user->group);
}

static char *path_absolute(const char *path)
{
	char cwd[PATH_MAX], *out;
	size_t len;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	len = strlen(cwd) + 1 + strlen(path) + 1;
	out = xmalloc(len);
	snprintf(out, len, "%s/%s", cwd, path);
	return out;
}

static const char *door_spec(const struct door_socket *socket)
{
	return socket->spec != NULL ? socket->spec : "off";
}
